"""The portal's forms for the catalog editor. They only parse what people type; the rules
(lengths, addresses, who may) are :mod:`tldops.catalog.editing`'s, whose errors are put back on
the field they name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tldops.catalog import editing

#: Each editable field's label and input type, in the order of the form.
_FIELDS = {
    "manager": (_("Manager"), forms.TextInput),
    "admin_org": (_("Administrative contact: organisation"), forms.TextInput),
    "admin_email": (_("Administrative contact: email"), forms.EmailInput),
    "tech_org": (_("Technical contact: organisation"), forms.TextInput),
    "tech_email": (_("Technical contact: email"), forms.EmailInput),
}


class TldContactsForm(forms.Form):
    """A ccTLD's manager and IANA contacts; an empty field clears the value."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        for name in editing.EDITABLE:
            label, widget = _FIELDS[name]
            limit = (
                editing.EMAIL_MAX_LENGTH
                if name in editing.EMAIL_FIELDS
                else editing.TEXT_MAX_LENGTH
            )
            # Lengths are checked again by the service; a browser cannot send more than this.
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=limit,
                widget=widget(attrs={"autocomplete": "off"}),
            )


class AdminImportForm(forms.Form):
    """A CSV file of admin contacts (the first step: a preview)."""

    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "UTF-8, with a header line: tld, then any of manager, admin_org (or admin_name), "
            "admin_email, tech_org (or tech_name), tech_email. An empty cell leaves the value as "
            "it is. At most 1,000 rows and 1 MB."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
