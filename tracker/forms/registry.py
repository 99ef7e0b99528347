"""Forms of the NGO registry: the public filters, the organisation record, the import and
the monitoring links."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileRequired, FileSize
from wtforms import (
    BooleanField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Email, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.forms.filters import GetForm, filter_field, search_field
from tracker.services.registry.labels import (
    MULTI_FIELDS,
    OTHER,
    SPECIFIC_COMMUNITIES,
    catalogue,
)
from tracker.services.registry.organisations import (
    SCALAR_FIELDS,
    TEXT_FIELDS,
    OrganisationData,
    clean_aliases,
)
from tracker.services.registry.search import RegistryFilter, choices_by_field
from tracker.vocabulary import OrganisationKind
from tracker.web.forms import (
    BoundedNumberField,
    FileChoiceField,
    IsoDateField,
    TrackerForm,
    chosen_id,
    passed,
)
from tracker.web.pagination import page_number

#: donor answers that come with names, and the form field holding them
DONOR_NAME_FIELDS = {
    "religious": "donors_religious",
    "other_national": "donors_other_national",
    "international": "donors_international",
    "individual": "donors_individual",
    OTHER: "donors_other",
}
#: the free-text field of each list's "other" answer (and of "specific communities")
DETAIL_FIELDS = {
    ("services", OTHER): "services_other",
    ("beneficiaries", OTHER): "beneficiaries_other",
    ("regions", SPECIFIC_COMMUNITIES): "regions_communities",
    ("training_needs", OTHER): "training_needs_other",
    **{("donors", key): name for key, name in DONOR_NAME_FIELDS.items()},
}
MAX_TRAINING_NEEDS = 3


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as the SelectChoice objects WTForms expects."""
    return [SelectChoice(value, label) for value, label in pairs]


def _kind_choices():
    return [
        (OrganisationKind.ORGANISATION, _l("Organisation")),
        (OrganisationKind.COALITION, _l("Coalition or network")),
    ]


def _membership_choices(everything):
    return [everything, ("yes", _l("Member of networks")), ("no", _l("Not a member"))]


class RegistryFilterForm(GetForm):
    """The public list's search and filters (GET: no CSRF, nothing changes)."""

    q = search_field(_l("Search by name or place"))
    legal_status = filter_field(_l("Legal status"))
    service = filter_field(_l("Service"))
    beneficiary = filter_field(_l("Beneficiaries"))
    region = filter_field(_l("Region"))
    membership = filter_field(_l("Membership of networks"))
    kind = filter_field(_l("Kind"))
    coalition = filter_field(_l("Member of"))

    def set_choices(self, locale: str, coalitions) -> None:
        labels = catalogue()
        everything = ("", _l("All"))
        self.legal_status.choices = _options(
            [everything, *labels.labels("legal_status", locale).items()]
        )
        self.service.choices = _options([everything, *labels.labels("services", locale).items()])
        self.beneficiary.choices = _options(
            [everything, *labels.labels("beneficiaries", locale).items()]
        )
        self.region.choices = _options([everything, *labels.labels("regions", locale).items()])
        self.membership.choices = _options(_membership_choices(everything))
        self.kind.choices = _options([everything, *_kind_choices()])
        self.coalition.choices = _options(
            [everything] + [(str(c.id), c.name(locale)) for c in coalitions]
        )

    def to_filter(self) -> RegistryFilter:
        return RegistryFilter(
            query=(self.q.data or "").strip(),
            legal_status=self.legal_status.data or None,
            service=self.service.data or None,
            beneficiary=self.beneficiary.data or None,
            region=self.region.data or None,
            membership={"yes": True, "no": False}.get(self.membership.data or ""),
            kind=self.kind.data or None,
            coalition_id=int(self.coalition.data) if self.coalition.data else None,
        )

    @property
    def page_number(self) -> int:
        """The page asked for, checked by web.pagination (the JSON API reads it here)."""
        return page_number()


class AdminSearchForm(GetForm):
    q = search_field(_l("Search by name or place"))
    status = SelectField(
        _l("Show"),
        choices=_options(
            [("active", _l("Active")), ("archived", _l("Archived")), ("all", _l("All"))]
        ),
        validators=[Optional()],
        default="active",
    )


def _count_field(label):
    return BoundedNumberField(label, [Optional()], minimum=0, maximum=1_000_000)


class OrganisationForm(TrackerForm):
    """Every answer of the survey's Annex 1, and the registry's own fields."""

    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    name_az = StringField(_l("Name (Azerbaijani)"), validators=[DataRequired(), Length(max=500)])
    name_en = StringField(_l("Name (English)"), validators=[Optional(), Length(max=500)])
    aliases = TextAreaField(
        _l("Other names and abbreviations (one per line)"),
        validators=[Optional(), Length(max=5000)],
    )
    curator_aliases = TextAreaField(
        _l("Of these, the names the curator added, which no source gives (one per line)"),
        validators=[Optional(), Length(max=5000)],
    )
    completed_on = IsoDateField(_l("Date the survey was completed"), validators=[Optional()])
    founded_year = BoundedNumberField(_l("Founding year"), [Optional()], minimum=1800, maximum=2100)
    founded_month = SelectField(_l("Founding month"), validators=[Optional()])
    founded_year_alternative = BoundedNumberField(
        _l("Another founding year a source gives"), [Optional()], minimum=1800, maximum=2100
    )
    legal_status = SelectField(_l("Legal status"), validators=[Optional()])
    legal_status_other = StringField(
        _l("Legal status: other (please specify)"), validators=[Optional(), Length(max=500)]
    )
    legal_address = StringField(_l("Legal address"), validators=[Optional(), Length(max=1000)])
    phone_fax = StringField(_l("Phone/fax"), validators=[Optional(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=320)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=1000)])
    social_media = StringField(
        _l("Social media accounts"), validators=[Optional(), Length(max=1000)]
    )
    contact_person = StringField(_l("Contact person"), validators=[Optional(), Length(max=300)])
    services = MultiCheckboxField(_l("Services provided"))
    services_other = StringField(_l("Other services"), validators=[Optional(), Length(max=1000)])
    mission = TextAreaField(_l("Aim/mission"), validators=[Optional(), Length(max=10_000)])
    beneficiaries = MultiCheckboxField(_l("Beneficiaries/target groups"))
    beneficiaries_other = StringField(
        _l("Other beneficiaries"), validators=[Optional(), Length(max=1000)]
    )
    regions = MultiCheckboxField(_l("Geographic coverage"))
    regions_communities = StringField(
        _l("Which communities or districts"), validators=[Optional(), Length(max=1000)]
    )
    staff_total = _count_field(_l("Total number of staff"))
    staff_male = _count_field(_l("Male staff"))
    staff_female = _count_field(_l("Female staff"))
    staff_management = _count_field(_l("Management staff"))
    staff_experts = _count_field(_l("Experts/specialists"))
    staff_social_workers = _count_field(_l("Psychologists, social workers, community mobilisers"))
    staff_support = _count_field(_l("Other administrative or support staff (incl. volunteers)"))
    donors = MultiCheckboxField(_l("Main donors/partners"))
    donors_religious = StringField(
        _l("Religious institutions: which"), validators=[Length(max=1000)]
    )
    donors_other_national = StringField(
        _l("Other national donors: which"), validators=[Length(max=1000)]
    )
    donors_international = StringField(
        _l("International donors: which"), validators=[Length(max=1000)]
    )
    donors_individual = StringField(
        _l("Individual donors: the first three (never shown publicly)"),
        validators=[Length(max=1000)],
    )
    donors_other = StringField(_l("Other donors: which"), validators=[Length(max=1000)])
    training_needs = MultiCheckboxField(_l("Training needs (up to three)"))
    training_needs_other = StringField(
        _l("Other training needs"), validators=[Optional(), Length(max=1000)]
    )
    member_of_networks = SelectField(_l("Member of professional groups or networks"))
    network_names = TextAreaField(_l("Which groups or networks"), validators=[Length(max=5000)])
    coalitions = MultiCheckboxField(_l("Coalitions in the registry it belongs to"), coerce=int)
    recommendations = TextAreaField(_l("Recommendations"), validators=[Length(max=20_000)])
    field_group_az = StringField(_l("Field group (Azerbaijani)"), validators=[Length(max=300)])
    field_group_en = StringField(_l("Field group (English)"), validators=[Length(max=300)])
    is_interviewed = BooleanField(_l("Interviewed for the needs assessment"))
    declared_member_count = _count_field(_l("Declared number of members (coalitions)"))
    declared_member_count_is_minimum = BooleanField(
        _l("The declared number is a lower bound (“more than”)")
    )
    source = StringField(_l("Source of the record"), validators=[Length(max=1000)])
    #: the record's last change when the form was loaded: a concurrent edit is refused
    version = HiddenField()

    def set_choices(self, locale: str, coalitions) -> None:
        labels = catalogue()
        self.kind.choices = _options(_kind_choices())
        self.founded_month.choices = _options(
            [("", "–")] + [(str(m), str(m)) for m in range(1, 13)]
        )
        self.legal_status.choices = _options(
            [("", _l("Not stated")), *labels.labels("legal_status", locale).items()]
        )
        for name in MULTI_FIELDS:
            getattr(self, name).choices = _options(labels.labels(name, locale).items())
        self.member_of_networks.choices = _options(
            [("", _l("Not stated")), ("yes", _l("Yes")), ("no", _l("No"))]
        )
        self.coalitions.choices = _options((c.id, c.name(locale)) for c in coalitions)

    def validate_training_needs(self, field) -> None:
        if len(field.data or []) > MAX_TRAINING_NEEDS:
            raise ValidationError(_l("Choose up to three training needs."))

    def load(self, organisation, coalition_ids) -> None:
        """Fill the form from a record (GET of the edit page)."""
        for name in ("name_az", *SCALAR_FIELDS):
            getattr(self, name).data = getattr(organisation, name)
        self.aliases.data = "\n".join(organisation.aliases or [])
        self.curator_aliases.data = "\n".join(organisation.curator_aliases or [])
        self.founded_month.data = str(organisation.founded_month or "")
        self.legal_status.data = organisation.legal_status or ""
        self.member_of_networks.data = {True: "yes", False: "no"}.get(
            organisation.member_of_networks, ""
        )
        answers = choices_by_field(organisation)
        for name in MULTI_FIELDS:
            getattr(self, name).data = list(answers[name])
        for (list_name, key), field_name in DETAIL_FIELDS.items():
            getattr(self, field_name).data = answers[list_name].get(key, "")
        self.coalitions.data = sorted(coalition_ids)
        self.version.data = organisation.updated_dt.isoformat() if organisation.updated_dt else ""

    def to_data(self) -> OrganisationData:
        """The form as service input. After failed field checks, a value that failed is
        left out (None, or no answers), so the service can still name the other problems."""

        def text(name: str) -> str:
            return (getattr(self, name).data or "").strip()

        choices: dict[str, dict[str, str]] = {}
        for name in MULTI_FIELDS:
            choices[name] = {key: "" for key in passed(getattr(self, name)) or []}
        for (list_name, key), field_name in DETAIL_FIELDS.items():
            detail = text(field_name)
            if detail:
                # Writing the "which" text is answering the question it belongs to.
                choices[list_name][key] = detail
        values = {name: passed(getattr(self, name)) for name in SCALAR_FIELDS}
        values.update({name: text(name) for name in TEXT_FIELDS})
        values.update(
            founded_month=chosen_id(self.founded_month),
            legal_status=self.legal_status.data or None,
            member_of_networks={"yes": True, "no": False}.get(self.member_of_networks.data or ""),
            is_interviewed=bool(self.is_interviewed.data),
            declared_member_count_is_minimum=bool(self.declared_member_count_is_minimum.data),
        )
        return OrganisationData(
            name_az=text("name_az"),
            aliases=tuple(clean_aliases((self.aliases.data or "").splitlines())),
            curator_aliases=tuple(clean_aliases((self.curator_aliases.data or "").splitlines())),
            choices=choices,
            coalition_ids=tuple(passed(self.coalitions) or ()),
            **values,
        )


def organisation_field_labels() -> dict[str, object]:
    """Each field of the organisation form by its label, as the form shows it: the audit log
    names an edit's changed fields with these."""
    return {
        name: unbound.args[0]
        for name, unbound in vars(OrganisationForm).items()
        if isinstance(unbound, UnboundField) and unbound.args
    }


class ImportForm(TrackerForm):
    file = FileChoiceField(
        _l("Survey export (XLSX or CSV)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["xlsx", "csv"], _l("Upload an XLSX or CSV file.")),
        ],
    )
    dry_run = BooleanField(_l("Check only: show what would change, write nothing"))

    def limit_size(self, max_bytes: int) -> None:
        self.file.validators = [
            *self.file.validators,
            FileSize(max_bytes, message=_l("The file is larger than the upload limit.")),
        ]


class LinkForm(TrackerForm):
    plan = SelectField(_l("Plan"), validators=[DataRequired()])
    codes = StringField(
        _l("Measure codes, e.g. 1.1, 2.3"), validators=[DataRequired(), Length(max=1000)]
    )
    start_date = IsoDateField(_l("Monitoring since"), validators=[Optional()])
    is_lead = BooleanField(_l("Lead monitor of these measures"))


class EndLinkForm(TrackerForm):
    end_date = IsoDateField(_l("Monitoring ended on"), validators=[Optional()])
