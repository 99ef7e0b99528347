"""Forms of the accounts area: login, passwords, language, and the admin's user forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from tracker.forms.filters import GetForm
from tracker.services.accounts.passwords import MAX_LENGTH, policy_problem
from tracker.vocabulary import ROLE_LABELS, Role
from tracker.web.forms import IsoDateField, TrackerForm, language_choices, passed


class PolicyPassword:
    """The password policy of tracker.services.accounts.passwords, as a form validator. The form's
    `account_email` (when set) is checked too: a password must not be the email."""

    def __call__(self, form, field) -> None:
        problem = policy_problem(field.data or "", email=getattr(form, "account_email", None))
        if problem is not None:
            raise ValidationError(problem)


def _password_field(label) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Enter a password.")),
            PolicyPassword(),
        ],
        render_kw={"autocomplete": "new-password", "maxlength": MAX_LENGTH},
    )


def _confirm_field(label, other: str) -> PasswordField:
    return PasswordField(
        label,
        validators=[
            DataRequired(message=_l("Enter the password again.")),
            EqualTo(other, message=_l("The two passwords differ. Type the same password twice.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def _login_email_field(**render_kw) -> StringField:
    """The email of one's own account (a login name: not checked for its form here)."""
    return StringField(
        _l("Email"),
        validators=[DataRequired(message=_l("Enter your email address.")), Length(max=320)],
        render_kw={"autocomplete": "username", "inputmode": "email", **render_kw},
    )


class _PasswordForm(TrackerForm):
    """A form that chooses a password for the account `account_email` (which the
    password must not be)."""

    def __init__(self, *args, account_email: str | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.account_email = account_email


class LoginForm(TrackerForm):
    email = _login_email_field(autofocus=True)
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device when the browser is closed"))
    next = HiddenField()


def _own_password_field(*, autofocus: bool = False) -> PasswordField:
    """The signed-in person's own password, typed again."""
    render_kw = {"autocomplete": "current-password"}
    if autofocus:
        render_kw["autofocus"] = True
    return PasswordField(
        _l("Your password"),
        validators=[DataRequired(message=_l("Enter your password.")), Length(max=1024)],
        render_kw=render_kw,
    )


class ConfirmPasswordForm(TrackerForm):
    """Type one's password again before a sensitive action."""

    password = _own_password_field(autofocus=True)
    next = HiddenField()


class SetPasswordForm(_PasswordForm):
    """Accepting an invitation and resetting a password: choose a new password."""

    password = _password_field(_l("New password"))
    confirm = _confirm_field(_l("New password again"), "password")


class ChangePasswordForm(_PasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(message=_l("Enter your current password.")), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = _password_field(_l("New password"))
    confirm = _confirm_field(_l("New password again"), "new_password")


def _code_field(label, *, autofocus: bool = False) -> StringField:
    """A code from the authenticator app, or a recovery code (letters, so no numeric
    keyboard; autocomplete lets a phone offer a code it received)."""
    render_kw = {"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
    if autofocus:
        render_kw["autofocus"] = True
    return StringField(
        label,
        validators=[DataRequired(message=_l("Enter the code.")), Length(max=64)],
        render_kw=render_kw,
    )


class SecondStepForm(TrackerForm):
    """The login's second step."""

    code = _code_field(_l("Code from your authenticator app, or a recovery code"), autofocus=True)


class TurnOnTwoStepForm(TrackerForm):
    code = _code_field(_l("The six-digit code the app shows now"))
    password = _own_password_field()


class TwoStepPasswordForm(TrackerForm):
    """Turning two-step verification off, or new recovery codes: the password again (the
    page has two of these, told apart by their prefixes)."""

    password = _own_password_field()


class LanguageForm(TrackerForm):
    locale = SelectField(_l("Language of the interface and of emails"), choices=language_choices())


class ForgotPasswordForm(TrackerForm):
    email = _login_email_field()


def role_choices() -> list[SelectChoice]:
    return [SelectChoice(str(role), ROLE_LABELS[role]) for role in Role]


class UserRoleForm(TrackerForm):
    role = SelectField(
        _l("Role"),
        choices=role_choices,
        validators=[InputRequired(message=_l("Choose a role."))],
    )
    #: 0 stands for "no organisation"; the choices are set by the view
    organisation_id = SelectField(
        _l("Organisation (monitors only)"), coerce=int, validate_choice=True, default=0
    )

    def validate_organisation_id(self, field) -> None:
        # Said here, beside the organisation, before the service says it again.
        if self.role.data == Role.MONITOR and not field.data:
            raise ValidationError(_l("A monitor must belong to an organisation. Choose one."))


def invite_role_choices() -> list[SelectChoice]:
    """No role is chosen until the admin chooses one: the least privilege by default."""
    return [SelectChoice("", _l("Choose a role")), *role_choices()]


class InviteUserForm(UserRoleForm):
    role = SelectField(
        _l("Role"),
        choices=invite_role_choices,
        default="",
        validators=[InputRequired(message=_l("Choose a role."))],
    )
    email = EmailField(
        _l("Email"),
        validators=[
            DataRequired(message=_l("Enter an email address.")),
            Email(message=_l("Enter a valid email address, such as name@example.org.")),
            Length(max=320),
        ],
    )
    display_name = StringField(_l("Name (optional)"), validators=[Optional(), Length(max=200)])
    locale = SelectField(_l("Language of the invitation"), choices=language_choices())

    def account_fields(self) -> dict:
        """The account's details for the service's checks; after failed field checks, a
        value that failed is left out."""
        return {
            "email": passed(self.email, ""),
            "role": passed(self.role, ""),
            "organisation_id": passed(self.organisation_id) or None,
            "locale": passed(self.locale, "az"),
        }


class UserFilterForm(GetForm):
    """The users list's filters: a GET form, so without CSRF (the page number is read
    apart, by tracker.web.pagination)."""

    q = StringField(_l("Email or name contains"), validators=[Optional(), Length(max=320)])
    role = SelectField(
        _l("Role"), choices=lambda: [SelectChoice("", _l("All roles")), *role_choices()], default=""
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All")),
            SelectChoice("enabled", _l("Enabled")),
            SelectChoice("disabled", _l("Disabled")),
            SelectChoice("invited", _l("Invitation not accepted")),
        ],
        default="",
    )


class AuditFilterForm(GetForm):
    """The audit log's filters: a GET form, so without CSRF (the page number is read
    apart, by tracker.web.pagination)."""

    action = SelectField(_l("Action"), choices=[], validate_choice=True, default="")
    actor = StringField(_l("Actor (email contains)"), validators=[Optional(), Length(max=320)])
    target_type = StringField(_l("Target type"), validators=[Optional(), Length(max=40)])
    target_id = StringField(_l("Target id"), validators=[Optional(), Length(max=64)])
    ip = StringField(_l("IP address"), validators=[Optional(), Length(max=64)])
    date_from = IsoDateField(
        _l("From (UTC date)"),
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    date_to = IsoDateField(_l("To (UTC date)"), validators=[Optional()], format="%Y-%m-%d")

    def validate_date_to(self, field) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date must not be before the start date."))
