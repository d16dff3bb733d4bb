"""The web portal: Django templates + htmx, thin views onto the apps' services."""
