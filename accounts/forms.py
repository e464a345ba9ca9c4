"""Forms for signup, API keys and workspace members."""

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import Role, Scope, User


class SignupForm(UserCreationForm):
    email = forms.EmailField(required=False, help_text="Optional; used to add you to workspaces.")

    class Meta:
        model = User
        fields = ("username", "email")


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="What will use it, e.g. “nightly retrain CI”.")
    expires_in_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=3650,
        label="Expires in (days)",
        help_text="Leave empty for a key that does not expire.",
    )
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        initial=[Scope.READ],
        widget=forms.CheckboxSelectMultiple,
        help_text="What the key may do; never more than your role allows.",
    )
    workspace = forms.ModelChoiceField(
        queryset=None,
        required=False,
        empty_label="All my workspaces",
        help_text="Bind the key to one workspace to limit what it can see.",
    )

    def __init__(self, *args, workspaces=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = workspaces


class MemberAddForm(forms.Form):
    identifier = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
