//! The SCIM schemas this service speaks (RFC 7643): the attributes of a User (core and
//! enterprise extension) and of a Group that it keeps, with their types, case rules and
//! mutability. Filters, PATCH and discovery all read them from here.

use super::filter::CaseRules;

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// An attribute's type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    DateTime,
    Reference,
    Complex,
}

/// Who may write an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
}

/// One attribute of a schema.
#[derive(Debug)]
pub struct Attribute {
    pub name: &'static str,
    pub kind: Type,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    /// Unique among the organisation's resources of its type (`uniqueness: server`).
    pub unique: bool,
    /// Returned whatever `attributes` asks (`returned: always`), as `id` is.
    pub always_returned: bool,
    /// For a reference: what it refers to (`User`, `Group`, `uri`).
    pub reference_types: &'static [&'static str],
    pub description: &'static str,
    pub sub_attributes: &'static [Attribute],
    /// Sub-attributes RFC 7643 defines that this service does not keep: sent, they are
    /// ignored.
    pub ignored_subs: &'static [&'static str],
}

const fn attr(name: &'static str, kind: Type, description: &'static str) -> Attribute {
    Attribute {
        name,
        kind,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        unique: false,
        always_returned: false,
        reference_types: &[],
        description,
        sub_attributes: &[],
        ignored_subs: &[],
    }
}

impl Attribute {
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    const fn exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    const fn read_only(mut self) -> Self {
        self.mutability = Mutability::ReadOnly;
        self
    }

    const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    const fn always(mut self) -> Self {
        self.always_returned = true;
        self
    }

    const fn to(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }

    const fn ignoring(mut self, subs: &'static [&'static str]) -> Self {
        self.ignored_subs = subs;
        self
    }

    /// Whether `name` is a sub-attribute RFC 7643 defines that is not kept.
    pub fn ignores(&self, name: &str) -> bool {
        self.ignored_subs.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    const fn with(mut self, sub: &'static [Attribute]) -> Self {
        self.sub_attributes = sub;
        self
    }

    /// A sub-attribute by name, ignoring case.
    pub fn sub(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A schema: its URI and attributes.
#[derive(Debug)]
pub struct Schema {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [Attribute],
    /// Attributes RFC 7643 defines for this schema that this service does not keep: sent,
    /// they are ignored (identity providers send their default mappings); any other unknown
    /// name is refused.
    pub ignored: &'static [&'static str],
}

impl Schema {
    /// An attribute by name, ignoring case.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
    }
}

/// A resource type: its core schema and the extensions it may carry.
#[derive(Debug)]
pub struct Resource {
    pub core: &'static Schema,
    pub extensions: &'static [&'static Schema],
}

/// Where a name leads: the schema it belongs to (`None`: the core) and the attribute.
#[derive(Debug, Clone, Copy)]
pub enum Found {
    Kept(Option<&'static str>, &'static Attribute),
    /// A standard attribute this service does not keep.
    Ignored,
}

impl Resource {
    /// The attribute `name` names in schema `uri` (the core's when `None` or the core's URI).
    /// `None` for a name no schema of this resource defines, or a URI it does not carry.
    pub fn find(&self, uri: Option<&str>, name: &str) -> Option<Found> {
        let schema = match uri {
            None => self.core,
            Some(uri) if uri.eq_ignore_ascii_case(self.core.id) => self.core,
            Some(uri) => self.extension(uri)?,
        };
        if let Some(a) = schema.attribute(name) {
            let uri = (schema.id != self.core.id).then_some(schema.id);
            return Some(Found::Kept(uri, a));
        }
        schema.ignored.iter().any(|n| n.eq_ignore_ascii_case(name)).then_some(Found::Ignored)
    }

    /// An extension schema by URI, ignoring case.
    pub fn extension(&self, uri: &str) -> Option<&'static Schema> {
        self.extensions.iter().copied().find(|s| s.id.eq_ignore_ascii_case(uri))
    }
}

impl Resource {
    /// Whether the attribute (or its sub-attribute) is of type `kind`.
    fn is_of(&self, kind: Type, uri: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        match self.find(uri, name) {
            Some(Found::Kept(_, a)) => match sub {
                Some(sub) => a.sub(sub).is_some_and(|s| s.kind == kind),
                None => a.kind == kind,
            },
            _ => false,
        }
    }
}

impl CaseRules for Resource {
    fn is_date_time(&self, uri: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        self.is_of(Type::DateTime, uri, name, sub)
    }

    fn is_boolean(&self, uri: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        self.is_of(Type::Boolean, uri, name, sub)
    }

    fn case_exact(&self, uri: Option<&str>, name: &str, sub: Option<&str>) -> bool {
        match self.find(uri, name) {
            Some(Found::Kept(_, a)) => match sub {
                Some(sub) => a.sub(sub).is_none_or(|s| s.case_exact),
                // A complex attribute compares its `value`.
                None => a.sub("value").map_or(a.case_exact, |v| v.case_exact),
            },
            _ => true,
        }
    }
}

const META: Attribute = attr("meta", Type::Complex, "When the resource was created and last changed, and its version.")
    .read_only()
    .with(&[
        attr("resourceType", Type::String, "`User` or `Group`.").exact().read_only(),
        attr("created", Type::DateTime, "When it was created.").read_only(),
        attr("lastModified", Type::DateTime, "When it last changed.").read_only(),
        attr("location", Type::Reference, "Its URL.").exact().read_only().to(&["uri"]),
        attr("version", Type::String, "Its version, as the `ETag` header gives it.").exact().read_only(),
    ]);

const ID: Attribute =
    attr("id", Type::String, "The service's id for the resource.").exact().read_only().unique().always();

const EXTERNAL_ID: Attribute =
    attr("externalId", Type::String, "The identity provider's own id for the resource.").exact();

static USER_SCHEMA: Schema = Schema {
    id: USER,
    name: "User",
    description: "A person with a membership of the credential's organisation.",
    ignored: &[
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "locale",
        "timezone",
        "password",
        "phoneNumbers",
        "ims",
        "photos",
        "addresses",
        "entitlements",
        "roles",
        "x509Certificates",
    ],
    attributes: &[
        ID,
        EXTERNAL_ID,
        attr(
            "userName",
            Type::String,
            "Unique in the organisation, ignoring case: the identity provider's sign-in name.",
        )
        .required()
        .unique(),
        attr("name", Type::Complex, "The person's name in parts.")
            .ignoring(&["middleName", "honorificPrefix", "honorificSuffix"])
            .with(&[
                attr("formatted", Type::String, "The full name, as it is displayed."),
                attr("familyName", Type::String, "The family name."),
                attr("givenName", Type::String, "The given name."),
            ]),
        attr("displayName", Type::String, "The name shown in the network."),
        attr("preferredLanguage", Type::String, "The language the person prefers (`nl`, `nl-BE`, `en`, ...)."),
        attr("active", Type::Boolean, "`false` ends the membership, `true` restores it; nothing is deleted."),
        attr(
            "emails",
            Type::Complex,
            "E-mail addresses; the primary (or first) one is the person's address in the network.",
        )
        .multi()
        .ignoring(&["display"])
        .with(&[
            attr("value", Type::String, "The address."),
            attr("type", Type::String, "`work`, `home` or `other`."),
            attr("primary", Type::Boolean, "Whether this is the address to use."),
        ]),
        attr("groups", Type::Complex, "The organisation's groups the person is in (change them through the groups).")
            .multi()
            .read_only()
            .with(&[
                attr("value", Type::String, "The group's id.").exact().read_only(),
                attr("$ref", Type::Reference, "The group's URL.").exact().read_only().to(&["Group"]),
                attr("display", Type::String, "The group's name.").read_only(),
            ]),
        META,
    ],
};

static ENTERPRISE_USER_SCHEMA: Schema = Schema {
    id: ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "The person's place in the organisation.",
    ignored: &["costCenter", "division"],
    attributes: &[
        attr("employeeNumber", Type::String, "The organisation's number for the person."),
        attr("department", Type::String, "The department the person works in."),
        attr("organization", Type::String, "The part of the organisation the person belongs to."),
        attr("manager", Type::Complex, "The person's manager, by the id of their SCIM user (kept as given).").with(&[
            attr("value", Type::String, "The manager's id.").exact(),
            attr("$ref", Type::Reference, "The manager's URL (its last segment is the id).").exact().to(&["User"]),
            attr("displayName", Type::String, "The manager's name.").read_only(),
        ]),
    ],
};

static GROUP_SCHEMA: Schema = Schema {
    id: GROUP,
    name: "Group",
    description: "A team or department of the credential's organisation.",
    ignored: &[],
    attributes: &[
        ID,
        EXTERNAL_ID,
        attr("displayName", Type::String, "The group's name, unique in the organisation.").required().unique(),
        attr("members", Type::Complex, "The users in the group.").multi().with(&[
            attr("value", Type::String, "The user's id.").exact(),
            attr("$ref", Type::Reference, "The user's URL (its last segment is the id).").exact().to(&["User"]),
            attr("display", Type::String, "The user's name.").read_only(),
            attr("type", Type::String, "`User`: members are users.").exact().read_only(),
        ]),
        META,
    ],
};

/// A User, with the enterprise extension.
pub static USERS: Resource = Resource { core: &USER_SCHEMA, extensions: &[&ENTERPRISE_USER_SCHEMA] };

/// A Group.
pub static GROUPS: Resource = Resource { core: &GROUP_SCHEMA, extensions: &[] };
