"""The portal's forms. They only parse what people type; every rule is checked by the actions,
whose :class:`~tldops.kernel.errors.DirectoryError` is put back on the field it names."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from tldops.directory.models import Phone
from tldops.kernel.errors import DirectoryError


def add_directory_error(form: forms.Form, exc: DirectoryError) -> None:
    """Show an action's errors, all of them, each next to the field it names or above the form."""
    for error in exc.errors:
        field = error.field if error.field in form.fields else None
        form.add_error(field, error.message)


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    otp_token = forms.CharField(
        label=_("Authentication code"),
        required=False,
        max_length=8,
        help_text=_(
            "The 6-digit code from your authenticator app. Required for the secretariat and the "
            "committee, and for members who turned it on; leave empty otherwise."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class TotpForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Authentication code"),
        max_length=8,
        help_text=_("The 6-digit code your authenticator app shows now."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]*"}
        ),
    )


class ConfirmForm(forms.Form):
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        help_text=_("At least 12 characters; not a common password, not only digits."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Type it again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", _("The two passwords differ; type the same one twice."))
        return data


class ManageForm(forms.Form):
    tld = forms.CharField(
        label=_("Your ccTLD"),
        max_length=70,
        help_text=_("For example fr, .br or рф."),
    )


class InviteOneForm(forms.Form):
    tld = forms.CharField(
        label=_("ccTLD"), max_length=70, help_text=_("For example fr, .FR, рф or xn--p1ai.")
    )
    batch = forms.CharField(label=_("Batch name (optional)"), max_length=100, required=False)


LETTERS = [(c, c) for c in "abcdefghijklmnopqrstuvwxyz"]


class InviteBatchForm(forms.Form):
    first = forms.ChoiceField(label=_("From letter"), choices=LETTERS)
    last = forms.ChoiceField(label=_("To letter"), choices=LETTERS)
    batch = forms.CharField(
        label=_("Batch name (optional)"),
        max_length=100,
        required=False,
        help_text=_("Defaults to the letter range and today's date."),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("first") and data.get("last") and data["first"] > data["last"]:
            self.add_error("last", _("The last letter must come after the first."))
        return data


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        help_text=_("What the token is for, e.g. “monitoring script”."),
    )


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Told to the contact and their colleagues, and kept in the audit log."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ResetSecondFactorForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_(
            "Why, e.g. “lost phone, asked by phone call on 3 May”. Told to the person and kept in "
            "the audit log."
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("I have checked that the request comes from this person."),
        required=True,
    )


PHONE_LABEL_CHOICES = Phone.Label.choices
