//! SCIM filters (RFC 7644 §3.4.2.2) and PATCH paths (§3.5.2): parsed into a tree, and
//! evaluated against a resource in its SCIM JSON form.
//!
//! The grammar, with the precedence the RFC gives (`not` and groups, then `and`, then `or`):
//!
//! ```text
//! FILTER    = OR
//! OR        = AND *("or" AND)
//! AND       = UNARY *("and" UNARY)
//! UNARY     = "not" "(" FILTER ")" / "(" FILTER ")" / attrPath "[" valFilter "]"
//!           / attrPath "pr" / attrPath compareOp compValue
//! attrPath  = [URI ":"] ATTRNAME ["." subAttr]
//! compValue = false / null / true / number / string
//! PATH      = attrPath / attrPath "[" valFilter "]" ["." subAttr]     (PATCH only)
//! ```
//!
//! Operators, keywords and attribute names are case-insensitive; whether a string value is
//! compared with its case is the attribute's `caseExact`, which the caller says.

use std::cmp::Ordering;

use serde_json::{Number, Value};

/// How deep groups, `not` and value filters may nest: deeper input is refused, not a stack
/// overflow.
const DEPTH_MAX: usize = 32;

/// The longest filter or path read, in bytes.
pub const LENGTH_MAX: usize = 4096;

/// An attribute path: `[URI ":"] ATTRNAME ["." subAttr]`, names as written (compared
/// ignoring case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema the path names (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`).
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    /// Whether this path names attribute `name` (and sub-attribute `sub`), ignoring case.
    pub fn is(&self, name: &str, sub: Option<&str>) -> bool {
        self.name.eq_ignore_ascii_case(name)
            && match (&self.sub, sub) {
                (None, None) => true,
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                _ => false,
            }
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "co" => Self::Co,
            "sw" => Self::Sw,
            "ew" => Self::Ew,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    fn orders(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    fn on_strings_only(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

/// The value a comparison compares with.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attr pr`: the attribute has a value that is not null or empty.
    Present(AttrPath),
    Compare(AttrPath, CompareOp, CompValue),
    Not(Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    /// `attr[filter]`: some value of the complex attribute `attr` matches `filter`, whose
    /// paths name sub-attributes of `attr`.
    ValuePath(AttrPath, Box<Filter>),
}

/// A PATCH operation's `path`: an attribute, or the values of a multi-valued attribute that
/// a filter selects, and maybe one sub-attribute of them (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// After a value filter: the sub-attribute of the selected values.
    pub sub: Option<String>,
}

/// Why a filter or path was refused: SCIM's `invalidFilter` (or `invalidPath`), with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {at})")]
pub struct Invalid {
    /// The offset in the input, in characters from 0.
    pub at: usize,
    pub message: String,
}

/// Parses a filter.
pub fn parse(input: &str) -> Result<Filter, Invalid> {
    let mut p = Parser::new(input)?;
    let filter = p.or(0, false)?;
    p.end()?;
    Ok(filter)
}

/// Parses a PATCH `path`.
pub fn parse_path(input: &str) -> Result<PatchPath, Invalid> {
    let mut p = Parser::new(input)?;
    let (attr, at) = match p.next() {
        Some(Token { kind: Kind::Word(w), at }) => (attr_path(&w, at)?, at),
        other => return Err(p.unexpected(other, "an attribute")),
    };
    let mut path = PatchPath { attr, filter: None, sub: None };
    if p.eat(&Kind::Open('[')) {
        if path.attr.sub.is_some() {
            return Err(Invalid { at, message: "A value filter follows an attribute, not a sub-attribute.".into() });
        }
        path.filter = Some(p.or(1, true)?);
        p.expect(&Kind::Close(']'))?;
        if let Some(Token { kind: Kind::Word(w), at }) = p.peek().cloned() {
            p.next();
            let name = w
                .strip_prefix('.')
                .filter(|n| is_name(n))
                .ok_or_else(|| Invalid { at, message: format!("`{w}` is not `.` and a sub-attribute name.") })?;
            path.sub = Some(name.to_string());
        }
    }
    p.end()?;
    Ok(path)
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Word(String),
    Str(String),
    Open(char),
    Close(char),
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: Kind,
    at: usize,
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    length: usize,
}

fn lex(input: &str) -> Result<Vec<Token>, Invalid> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | '[' => {
                tokens.push(Token { kind: Kind::Open(c), at: i });
                i += 1;
            }
            ')' | ']' => {
                tokens.push(Token { kind: Kind::Close(c), at: i });
                i += 1;
            }
            '"' => {
                let start = i;
                i += 1;
                let mut escaped = false;
                while i < chars.len() && (escaped || chars[i] != '"') {
                    escaped = !escaped && chars[i] == '\\';
                    i += 1;
                }
                if i == chars.len() {
                    return Err(Invalid { at: start, message: "The string is not closed with `\"`.".into() });
                }
                let literal: String = chars[start..=i].iter().collect();
                let text = serde_json::from_str::<String>(&literal)
                    .map_err(|_| Invalid { at: start, message: format!("{literal} is not a JSON string.") })?;
                tokens.push(Token { kind: Kind::Str(text), at: start });
                i += 1;
            }
            _ => {
                let start = i;
                while i < chars.len() && !chars[i].is_whitespace() && !"()[]\"".contains(chars[i]) {
                    i += 1;
                }
                tokens.push(Token { kind: Kind::Word(chars[start..i].iter().collect()), at: start });
            }
        }
    }
    Ok(tokens)
}

/// `ALPHA *(nameChar)`, nameChar = `-` / `_` / DIGIT / ALPHA; `$ref` too (RFC 7643 §2.1).
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    let first = chars.next();
    name == "$ref"
        || (first.is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

fn attr_path(word: &str, at: usize) -> Result<AttrPath, Invalid> {
    let bad = || Invalid { at, message: format!("`{word}` is not an attribute path.") };
    // A schema URI ends at the last `:`; names hold none (the URI may hold dots: `2.0`).
    let (uri, rest) = match word.rsplit_once(':') {
        Some((uri, rest)) if uri.to_ascii_lowercase().starts_with("urn:") => (Some(uri.to_string()), rest),
        Some(_) => return Err(bad()),
        None => (None, word),
    };
    let (name, sub) = match rest.split_once('.') {
        Some((name, sub)) => (name, Some(sub)),
        None => (rest, None),
    };
    if !is_name(name) || sub.is_some_and(|s| !is_name(s)) {
        return Err(bad());
    }
    Ok(AttrPath { uri, name: name.to_string(), sub: sub.map(str::to_string) })
}

impl Parser {
    fn new(input: &str) -> Result<Self, Invalid> {
        if input.len() > LENGTH_MAX {
            return Err(Invalid { at: 0, message: format!("It is longer than {LENGTH_MAX} bytes.") });
        }
        let length = input.chars().count();
        Ok(Parser { tokens: lex(input)?, next: 0, length })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.next).cloned();
        self.next += 1;
        t
    }

    fn eat(&mut self, kind: &Kind) -> bool {
        let hit = self.peek().is_some_and(|t| &t.kind == kind);
        if hit {
            self.next += 1;
        }
        hit
    }

    fn eat_word(&mut self, word: &str) -> bool {
        let hit = matches!(self.peek(), Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case(word));
        if hit {
            self.next += 1;
        }
        hit
    }

    fn expect(&mut self, kind: &Kind) -> Result<(), Invalid> {
        if self.eat(kind) {
            return Ok(());
        }
        let what = match kind {
            Kind::Open(c) | Kind::Close(c) => format!("`{c}`"),
            _ => "more".into(),
        };
        let t = self.peek().cloned();
        Err(self.unexpected(t, &what))
    }

    fn unexpected(&self, token: Option<Token>, wanted: &str) -> Invalid {
        match token {
            None => Invalid { at: self.length, message: format!("The filter ends where {wanted} was expected.") },
            Some(t) => {
                let found = match t.kind {
                    Kind::Word(w) => format!("`{w}`"),
                    Kind::Str(s) => format!("the string {s:?}"),
                    Kind::Open(c) | Kind::Close(c) => format!("`{c}`"),
                };
                Invalid { at: t.at, message: format!("Expected {wanted}, found {found}.") }
            }
        }
    }

    fn end(&mut self) -> Result<(), Invalid> {
        match self.next() {
            None => Ok(()),
            Some(t) => Err(self.unexpected(Some(t), "`and`, `or` or the end")),
        }
    }

    fn or(&mut self, depth: usize, in_value: bool) -> Result<Filter, Invalid> {
        let mut left = self.and(depth, in_value)?;
        while self.eat_word("or") {
            left = Filter::Or(Box::new(left), Box::new(self.and(depth, in_value)?));
        }
        Ok(left)
    }

    fn and(&mut self, depth: usize, in_value: bool) -> Result<Filter, Invalid> {
        let mut left = self.unary(depth, in_value)?;
        while self.eat_word("and") {
            left = Filter::And(Box::new(left), Box::new(self.unary(depth, in_value)?));
        }
        Ok(left)
    }

    fn group(&mut self, depth: usize, in_value: bool) -> Result<Filter, Invalid> {
        if depth >= DEPTH_MAX {
            let at = self.peek().map_or(self.length, |t| t.at);
            return Err(Invalid { at, message: format!("It nests deeper than {DEPTH_MAX} levels.") });
        }
        self.expect(&Kind::Open('('))?;
        let inner = self.or(depth + 1, in_value)?;
        self.expect(&Kind::Close(')'))?;
        Ok(inner)
    }

    fn unary(&mut self, depth: usize, in_value: bool) -> Result<Filter, Invalid> {
        let token = self.peek().cloned();
        match token {
            Some(Token { kind: Kind::Open('('), .. }) => self.group(depth, in_value),
            Some(Token { kind: Kind::Word(w), .. })
                if w.eq_ignore_ascii_case("not")
                    && matches!(self.tokens.get(self.next + 1), Some(Token { kind: Kind::Open('('), .. })) =>
            {
                self.next += 1;
                Ok(Filter::Not(Box::new(self.group(depth, in_value)?)))
            }
            Some(Token { kind: Kind::Word(w), at }) => {
                self.next += 1;
                let attr = attr_path(&w, at)?;
                if in_value && (attr.uri.is_some() || attr.sub.is_some()) {
                    return Err(Invalid { at, message: format!("`{w}` is not a sub-attribute name.") });
                }
                self.attr_expr(attr, at, depth, in_value)
            }
            other => Err(self.unexpected(other, "an attribute, `not` or `(`")),
        }
    }

    fn attr_expr(&mut self, attr: AttrPath, at: usize, depth: usize, in_value: bool) -> Result<Filter, Invalid> {
        if self.eat(&Kind::Open('[')) {
            if in_value {
                return Err(Invalid { at, message: "A value filter cannot hold another.".into() });
            }
            if attr.sub.is_some() {
                return Err(Invalid {
                    at,
                    message: "A value filter follows an attribute, not a sub-attribute.".into(),
                });
            }
            if depth >= DEPTH_MAX {
                return Err(Invalid { at, message: format!("It nests deeper than {DEPTH_MAX} levels.") });
            }
            let inner = self.or(depth + 1, true)?;
            self.expect(&Kind::Close(']'))?;
            return Ok(Filter::ValuePath(attr, Box::new(inner)));
        }
        let op = match self.next() {
            Some(Token { kind: Kind::Word(w), .. }) if w.eq_ignore_ascii_case("pr") => {
                return Ok(Filter::Present(attr));
            }
            Some(Token { kind: Kind::Word(w), at }) => CompareOp::parse(&w).ok_or_else(|| Invalid {
                at,
                message: format!("`{w}` is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)."),
            })?,
            other => return Err(self.unexpected(other, "an operator")),
        };
        let (value, value_at) = match self.next() {
            Some(Token { kind: Kind::Str(s), at }) => (CompValue::String(s), at),
            Some(Token { kind: Kind::Word(w), at }) => {
                // JSON's literals, in any case (as some clients send them).
                let value = match w.to_ascii_lowercase().as_str() {
                    "true" => CompValue::Bool(true),
                    "false" => CompValue::Bool(false),
                    "null" => CompValue::Null,
                    _ => match serde_json::from_str::<Value>(&w) {
                        Ok(Value::Number(n)) => CompValue::Number(n),
                        _ => {
                            return Err(Invalid {
                                at,
                                message: format!(
                                    "`{w}` is not a value: a string in double quotes, a number, true, false or null."
                                ),
                            });
                        }
                    },
                };
                (value, at)
            }
            other => return Err(self.unexpected(other, "a value")),
        };
        let fits = match &value {
            CompValue::String(_) => true,
            CompValue::Number(_) => !op.on_strings_only(),
            CompValue::Bool(_) | CompValue::Null => !op.on_strings_only() && !op.orders(),
        };
        if !fits {
            return Err(Invalid { at: value_at, message: format!("This operator does not compare with {value:?}.") });
        }
        Ok(Filter::Compare(attr, op, value))
    }
}

/// Whether a string attribute compares with its case: the attribute's `caseExact`.
pub trait CaseRules {
    /// For `name.sub` (`sub` is `None` for a top-level attribute), in the schema `uri` names
    /// or the resource's own.
    fn case_exact(&self, uri: Option<&str>, name: &str, sub: Option<&str>) -> bool;

    /// Whether the attribute is a `dateTime`, compared as instants (RFC 3339, any offset).
    fn is_date_time(&self, _uri: Option<&str>, _name: &str, _sub: Option<&str>) -> bool {
        false
    }

    /// Whether the attribute is a boolean, which `gt`, `ge`, `lt` and `le` do not order.
    fn is_boolean(&self, _uri: Option<&str>, _name: &str, _sub: Option<&str>) -> bool {
        false
    }
}

impl Filter {
    /// What the schema refuses in a filter that parses (RFC 7644 §3.4.2.2): `gt`, `ge`, `lt`
    /// or `le` on a boolean. The reason, for an `invalidFilter` error.
    pub fn check(&self, rules: &dyn CaseRules) -> Result<(), String> {
        self.check_within(None, rules)
    }

    fn check_within(&self, parent: Option<&AttrPath>, rules: &dyn CaseRules) -> Result<(), String> {
        match self {
            Filter::Compare(path, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le, _) => {
                let boolean = match parent {
                    None => rules.is_boolean(path.uri.as_deref(), &path.name, path.sub.as_deref()),
                    Some(p) => rules.is_boolean(p.uri.as_deref(), &p.name, Some(&path.name)),
                };
                match boolean {
                    true => Err(format!("`{}` is a boolean: `gt`, `ge`, `lt` and `le` do not order it", path.name)),
                    false => Ok(()),
                }
            }
            Filter::Present(_) | Filter::Compare(..) => Ok(()),
            Filter::Not(f) => f.check_within(parent, rules),
            Filter::And(a, b) | Filter::Or(a, b) => {
                a.check_within(parent, rules)?;
                b.check_within(parent, rules)
            }
            Filter::ValuePath(path, f) => f.check_within(Some(path), rules),
        }
    }

    /// Whether `resource` (a SCIM resource as JSON) matches.
    pub fn matches(&self, resource: &Value, rules: &dyn CaseRules) -> bool {
        self.matches_in(resource, None, rules)
    }

    /// Whether `value`, one value of the multi-valued attribute `attr`, matches this filter
    /// of a value path (`attr[filter]`), whose paths name sub-attributes of `attr`.
    pub fn matches_value(&self, value: &Value, attr: &AttrPath, rules: &dyn CaseRules) -> bool {
        value.is_object() && self.matches_in(value, Some(attr), rules)
    }

    /// The pairs of sub-attribute and string that this filter requires and nothing else
    /// (`type eq "work"`, or several joined by `and`): what a value must hold to match, so
    /// that a value can be made for it. `None` for any other filter.
    pub fn equalities(&self) -> Option<Vec<(&str, &str)>> {
        match self {
            Filter::Compare(p, CompareOp::Eq, CompValue::String(v)) if p.uri.is_none() && p.sub.is_none() => {
                Some(vec![(p.name.as_str(), v.as_str())])
            }
            Filter::And(a, b) => {
                let mut pairs = a.equalities()?;
                pairs.extend(b.equalities()?);
                Some(pairs)
            }
            _ => None,
        }
    }

    /// `parent`: inside a value filter, the attribute whose values are being tested.
    fn matches_in(&self, node: &Value, parent: Option<&AttrPath>, rules: &dyn CaseRules) -> bool {
        match self {
            Filter::And(a, b) => a.matches_in(node, parent, rules) && b.matches_in(node, parent, rules),
            Filter::Or(a, b) => a.matches_in(node, parent, rules) || b.matches_in(node, parent, rules),
            Filter::Not(a) => !a.matches_in(node, parent, rules),
            Filter::Present(path) => named(node, path, parent.is_some()).iter().any(|v| present(v)),
            Filter::Compare(path, op, CompValue::Null) => {
                let present = named(node, path, parent.is_some()).iter().any(|v| present(v));
                if *op == CompareOp::Ne { present } else { !present }
            }
            Filter::Compare(path, op, value) => {
                let (uri, name, sub) = match parent {
                    Some(p) => (p.uri.as_deref(), p.name.as_str(), Some(path.name.as_str())),
                    None => (path.uri.as_deref(), path.name.as_str(), path.sub.as_deref()),
                };
                let how = How { exact: rules.case_exact(uri, name, sub), instants: rules.is_date_time(uri, name, sub) };
                let leaves = leaves(node, path, parent.is_some());
                match op {
                    // Some value differs (RFC 7644: a multi-valued attribute matches when any
                    // of its values does); an attribute without a value differs from anything.
                    CompareOp::Ne => leaves.is_empty() || leaves.iter().any(|v| !compare(v, CompareOp::Eq, value, how)),
                    op => leaves.iter().any(|v| compare(v, *op, value, how)),
                }
            }
            Filter::ValuePath(path, inner) => {
                values(node, path).iter().any(|v| v.is_object() && inner.matches_in(v, Some(path), rules))
            }
        }
    }
}

/// `key` of `object`, its name ignoring case.
pub fn member<'a>(object: &'a Value, key: &str) -> Option<&'a Value> {
    object.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The values of `path`'s attribute (not its sub-attribute), each element of an array.
fn values<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    // An extension's attributes sit under its URI; the core schema's (the first of
    // `schemas`) at the top. Another URI names nothing here.
    let holder = match path.uri.as_deref() {
        None => resource,
        Some(uri) => match member(resource, uri) {
            Some(extension) => extension,
            None if member(resource, "schemas")
                .and_then(|s| s.get(0))
                .and_then(Value::as_str)
                .is_some_and(|core| core.eq_ignore_ascii_case(uri)) =>
            {
                resource
            }
            None => return Vec::new(),
        },
    };
    match member(holder, &path.name) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

/// What `path` names in `node` (inside a value filter, `node` is one value of the filtered
/// attribute and `path` one of its sub-attributes), each element of an array on its own.
fn named<'a>(node: &'a Value, path: &AttrPath, in_value: bool) -> Vec<&'a Value> {
    let found: Vec<&Value> = if in_value { member(node, &path.name).into_iter().collect() } else { values(node, path) };
    let found = found.into_iter().flat_map(|v| match v {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    });
    match &path.sub {
        Some(sub) => found.filter_map(|v| member(v, sub)).collect(),
        None => found.collect(),
    }
}

/// The simple values a comparison on `path` compares: what it names, and of a complex value
/// its `value` (`emails co "@example.com"`).
fn leaves<'a>(node: &'a Value, path: &AttrPath, in_value: bool) -> Vec<&'a Value> {
    named(node, path, in_value)
        .into_iter()
        .filter_map(|v| if v.is_object() { member(v, "value") } else { Some(v) })
        .collect()
}

fn present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(present),
        Value::Object(o) => o.values().any(present),
        _ => true,
    }
}

fn fold(s: &str, exact: bool) -> std::borrow::Cow<'_, str> {
    if exact { s.into() } else { s.to_lowercase().into() }
}

/// How strings compare: with their case, and as instants (a `dateTime`).
#[derive(Clone, Copy)]
struct How {
    exact: bool,
    instants: bool,
}

fn compare(actual: &Value, op: CompareOp, expected: &CompValue, how: How) -> bool {
    let order = match (actual, expected) {
        (Value::String(a), CompValue::String(e)) => {
            // Timestamps compare as instants, whatever their offsets and fractions.
            let instants = if how.instants {
                chrono::DateTime::parse_from_rfc3339(a).ok().zip(chrono::DateTime::parse_from_rfc3339(e).ok())
            } else {
                None
            };
            let (a, e) = (fold(a, how.exact), fold(e, how.exact));
            match op {
                CompareOp::Co => return a.contains(e.as_ref()),
                CompareOp::Sw => return a.starts_with(e.as_ref()),
                CompareOp::Ew => return a.ends_with(e.as_ref()),
                _ => {}
            }
            match instants {
                Some((a, e)) => a.cmp(&e),
                None => a.cmp(&e),
            }
        }
        (Value::Number(a), CompValue::Number(e)) => match (a.as_i64(), e.as_i64()) {
            (Some(a), Some(e)) => a.cmp(&e),
            _ => match a.as_f64().zip(e.as_f64()).and_then(|(a, e)| a.partial_cmp(&e)) {
                Some(o) => o,
                None => return false,
            },
        },
        (Value::Bool(a), CompValue::Bool(e)) if op == CompareOp::Eq => return a == e,
        _ => return false,
    };
    match op {
        CompareOp::Eq => order == Ordering::Equal,
        CompareOp::Gt => order == Ordering::Greater,
        CompareOp::Ge => order != Ordering::Less,
        CompareOp::Lt => order == Ordering::Less,
        CompareOp::Le => order != Ordering::Greater,
        CompareOp::Ne | CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

#[cfg(test)]
#[path = "filter_tests.rs"]
mod tests;
