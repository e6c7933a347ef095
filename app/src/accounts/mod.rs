//! Accounts: users, roles, tiers, escalation levels, and the rules that tie them.
//!
//! The types and rules here are plain Rust shared by the server and the browser;
//! storage, sessions and tokens live in the `ssr`-only submodules.

use crate::error::{AppError, AppResult, FieldErrors};
use serde::{Deserialize, Serialize};

pub mod pages;
#[cfg(feature = "ssr")]
pub mod recovery;
pub mod security_pages;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;

crate::text_enum!(Role {
    Customer => "customer",
    Agent => "agent",
    Manager => "manager",
    Admin => "admin",
});

crate::text_enum!(Tier {
    Platinum => "platinum",
    General => "general",
});

crate::text_enum!(Level {
    L1 => "L1",
    L2 => "L2",
    L3 => "L3",
    L4 => "L4",
});

impl Level {
    /// The levels an agent (not a manager) can hold.
    pub const AGENT: [Level; 3] = [Level::L1, Level::L2, Level::L3];
}

impl Role {
    /// Agents, managers and admins work tickets; customers open them.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Customer)
    }

    /// Managers (L4) and admins manage users, policies and settings.
    pub fn is_manager(self) -> bool {
        matches!(self, Role::Manager | Role::Admin)
    }
}

/// The event that tells live streams their user's sign-ins, tokens or rights changed (personal audience).
pub const AUTH_CHANGED: &str = "auth.changed";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub tier: Option<Tier>,
    pub level: Option<Level>,
    pub takes_calls: bool,
}

impl User {
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }
}

/// A personal API token as listed on the account page (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    pub label: String,
    /// The first characters of the token, so its owner can recognise it.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    /// When the token stops working; `None`: until revoked.
    pub expires_at: Option<String>,
}

/// Returned once, when a token is created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub token: String,
    pub info: ApiToken,
}

pub const NAME_MAX: usize = 100;
pub const EMAIL_MAX: usize = 254;
pub const PASSWORD_MIN: usize = 10;
/// Long enough for any passphrase, short enough that hashing stays cheap.
pub const PASSWORD_MAX: usize = 128;
pub const TOKEN_LABEL_MAX: usize = 60;

/// Trims and lower-cases an email address, or says what is wrong with it.
pub fn normalize_email(raw: &str) -> Result<String, String> {
    let email = raw.trim().to_lowercase();
    if email.is_empty() {
        return Err("Enter your email address.".into());
    }
    if email.chars().count() > EMAIL_MAX {
        return Err(format!("An email address has at most {EMAIL_MAX} characters."));
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Err("Enter an email address like name@example.com.".into());
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    if local.is_empty() || !domain_ok || email.chars().any(char::is_whitespace) {
        return Err("Enter an email address like name@example.com.".into());
    }
    Ok(email)
}

pub fn normalize_name(raw: &str) -> Result<String, String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("Enter your name.".into());
    }
    if name.chars().count() > NAME_MAX {
        return Err(format!("A name has at most {NAME_MAX} characters."));
    }
    if name.chars().any(char::is_control) {
        return Err("A name cannot contain control characters.".into());
    }
    Ok(name)
}

/// A few passwords attackers try first; enough to turn away the worst choices.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "password1",
    "password12",
    "password123",
    "1234567890",
    "12345678910",
    "qwertyuiop",
    "iloveyou12",
    "letmein123",
    "welcome123",
    "administrator",
    "supportal",
    "supportal1",
    "changeme12",
    "qwerty1234",
    "abc1234567",
    "0123456789",
    "football12",
];

pub fn check_password(password: &str, email: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < PASSWORD_MIN {
        return Err(format!("Use at least {PASSWORD_MIN} characters."));
    }
    if length > PASSWORD_MAX {
        return Err(format!("Use at most {PASSWORD_MAX} characters."));
    }
    let lowered = password.to_lowercase();
    if COMMON_PASSWORDS.contains(&lowered.as_str()) {
        return Err("This password is too common; choose another.".into());
    }
    let first = password.chars().next();
    if password.chars().all(|c| Some(c) == first) {
        return Err("Use more than one repeated character.".into());
    }
    let local = email.split('@').next().unwrap_or_default();
    if !local.is_empty() && lowered == local.to_lowercase() {
        return Err("Do not use your email address as the password.".into());
    }
    Ok(())
}

/// What someone signing up sends; validated into a [`Registration`].
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    pub email: String,
    pub password: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub email: String,
    pub password: String,
    pub name: String,
}

impl RegistrationInput {
    pub fn validate(self) -> AppResult<Registration> {
        let mut errors = FieldErrors::default();
        let email = normalize_email(&self.email);
        let name = normalize_name(&self.name);
        errors.check("email", email.as_ref().map(|_| ()).map_err(Clone::clone));
        errors.check("name", name.as_ref().map(|_| ()).map_err(Clone::clone));
        errors.check("password", check_password(&self.password, email.as_deref().unwrap_or_default()));
        errors.into_result()?;
        Ok(Registration { email: email.unwrap_or_default(), password: self.password, name: name.unwrap_or_default() })
    }
}

/// Role, tier, level and call duty of a user: the part managers edit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub role: Role,
    pub tier: Option<Tier>,
    pub level: Option<Level>,
    pub takes_calls: bool,
}

impl Profile {
    pub fn customer(tier: Tier) -> Self {
        Profile { role: Role::Customer, tier: Some(tier), level: None, takes_calls: false }
    }

    pub fn of(user: &User) -> Self {
        Profile { role: user.role, tier: user.tier, level: user.level, takes_calls: user.takes_calls }
    }
}

/// A change to a profile; `None` leaves a field as it is. For `tier` and
/// `level`, `Some(None)` clears the field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub role: Option<Role>,
    #[serde(default, deserialize_with = "double_option")]
    pub tier: Option<Option<Tier>>,
    #[serde(default, deserialize_with = "double_option")]
    pub level: Option<Option<Level>>,
    pub takes_calls: Option<bool>,
}

/// For PATCH-style fields: absent → `None`, `null` → `Some(None)`.
pub fn double_option<'de, T, D>(de: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Deserialize::deserialize(de).map(Some)
}

/// Applies a patch. When the role changes, fields that do not fit the new role
/// fall back to its defaults unless the patch sets them; then the result must
/// satisfy [`check_profile`].
pub fn apply_patch(current: Profile, patch: &ProfilePatch) -> AppResult<Profile> {
    let role = patch.role.unwrap_or(current.role);
    let role_changed = role != current.role;
    let default_tier = match role {
        Role::Customer if role_changed => Some(Tier::General),
        Role::Customer => current.tier,
        _ => None,
    };
    let default_level = match role {
        Role::Agent if role_changed => Some(Level::L1),
        Role::Agent => current.level,
        Role::Manager => Some(Level::L4),
        Role::Customer | Role::Admin => None,
    };
    let default_calls = match role {
        Role::Customer | Role::Admin => false,
        _ => current.takes_calls,
    };
    let profile = Profile {
        role,
        tier: patch.tier.unwrap_or(default_tier),
        level: patch.level.unwrap_or(default_level),
        takes_calls: patch.takes_calls.unwrap_or(default_calls),
    };
    check_profile(&profile)?;
    Ok(profile)
}

/// Customers have a tier and no level; agents L1–L3; managers L4; admins neither.
/// Only staff below admin take calls.
pub fn check_profile(p: &Profile) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    match p.role {
        Role::Customer => {
            if p.tier.is_none() {
                errors.add("tier", "A customer needs a tier (platinum or general).");
            }
            if p.level.is_some() {
                errors.add("level", "Customers have no escalation level.");
            }
            if p.takes_calls {
                errors.add("takes_calls", "Only agents and managers take calls.");
            }
        }
        Role::Agent => {
            if p.tier.is_some() {
                errors.add("tier", "Only customers have a tier.");
            }
            match p.level {
                Some(Level::L1 | Level::L2 | Level::L3) => {}
                Some(Level::L4) => errors.add("level", "L4 is the managers' level; make this user a manager."),
                None => errors.add("level", "An agent needs a level (L1, L2 or L3)."),
            }
        }
        Role::Manager => {
            if p.tier.is_some() {
                errors.add("tier", "Only customers have a tier.");
            }
            if p.level != Some(Level::L4) {
                errors.add("level", "Managers are level L4.");
            }
        }
        Role::Admin => {
            if p.tier.is_some() {
                errors.add("tier", "Only customers have a tier.");
            }
            if p.level.is_some() {
                errors.add("level", "Admins have no escalation level.");
            }
            if p.takes_calls {
                errors.add("takes_calls", "Only agents and managers take calls.");
            }
        }
    }
    errors.into_result()
}

/// Who may change whose profile, and to what.
/// Managers manage customers, agents and managers, never admins and never
/// themselves into something else; only admins create or edit admins.
pub fn may_change_profile(actor: &User, target: &User, new: &Profile) -> AppResult<()> {
    if !actor.role.is_manager() {
        return Err(AppError::forbidden());
    }
    if actor.id == target.id && new.role != target.role {
        return Err(AppError::invalid_field("role", "You cannot change your own role."));
    }
    if actor.role != Role::Admin && (target.role == Role::Admin || new.role == Role::Admin) {
        return Err(AppError::forbidden());
    }
    Ok(())
}

/// The longest an API token may be set to live; without a lifetime it lives until revoked.
pub const TOKEN_MAX_DAYS: i64 = 365;

/// An optional lifetime in days for a new API token.
pub fn check_token_lifetime(days: Option<i64>) -> Result<Option<i64>, String> {
    match days {
        None => Ok(None),
        Some(d) if (1..=TOKEN_MAX_DAYS).contains(&d) => Ok(Some(d)),
        Some(_) => Err(format!("Choose between 1 and {TOKEN_MAX_DAYS} days, or no expiry.")),
    }
}

/// How long a password-reset link works.
pub const RESET_LINK_MINUTES: i64 = 30;

/// Whether `raw` has the shape of a reset token we hand out (64 hex digits), before anything is looked up.
pub fn is_reset_token(raw: &str) -> bool {
    raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn check_token_label(raw: &str) -> Result<String, String> {
    let label = raw.trim();
    if label.is_empty() {
        return Err("Give the token a label so you recognise it later.".into());
    }
    if label.chars().count() > TOKEN_LABEL_MAX {
        return Err(format!("A label has at most {TOKEN_LABEL_MAX} characters."));
    }
    Ok(label.to_string())
}

#[cfg(test)]
mod tests {
    #[test]
    fn token_lifetimes_are_optional_and_bounded() {
        assert_eq!(super::check_token_lifetime(None), Ok(None));
        assert_eq!(super::check_token_lifetime(Some(30)), Ok(Some(30)));
        assert!(super::check_token_lifetime(Some(0)).is_err());
        assert!(super::check_token_lifetime(Some(366)).is_err());
        assert!(super::check_token_lifetime(Some(-5)).is_err());
    }

    #[test]
    fn reset_tokens_have_one_shape() {
        assert!(super::is_reset_token(&"ab".repeat(32)));
        assert!(!super::is_reset_token(&"ab".repeat(31)));
        assert!(!super::is_reset_token(&"zz".repeat(32)));
        assert!(!super::is_reset_token(""));
    }

    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked() {
        assert_eq!(normalize_email("  Ana@Example.COM ").unwrap(), "ana@example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@example.com",
            "ana@example",
            "a na@example.com",
            "ana@.example.com",
            "ana@example..com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be rejected");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(normalize_email(&long).is_err());
    }

    #[test]
    fn passwords_need_length_variety_and_no_obvious_choice() {
        assert!(check_password("short", "a@b.co").is_err());
        assert!(check_password(&"x".repeat(129), "a@b.co").is_err());
        assert!(check_password("aaaaaaaaaaaa", "a@b.co").is_err());
        assert!(check_password("Password123", "a@b.co").is_err());
        assert!(check_password("ana.lopez12", "ana.lopez12@example.com").is_err());
        assert!(check_password("correct horse battery", "a@b.co").is_ok());
    }

    #[test]
    fn registration_reports_every_bad_field() {
        let err = RegistrationInput { email: "nope".into(), password: "123".into(), name: " ".into() }
            .validate()
            .unwrap_err();
        assert_eq!(err.status, 422);
        assert!(err.field("email").is_some());
        assert!(err.field("password").is_some());
        assert!(err.field("name").is_some());
    }

    #[test]
    fn registration_normalises_what_it_accepts() {
        let ok = RegistrationInput {
            email: " Kim@Example.com".into(),
            password: "a long passphrase".into(),
            name: "  Kim   Lee ".into(),
        }
        .validate()
        .unwrap();
        assert_eq!(ok.email, "kim@example.com");
        assert_eq!(ok.name, "Kim Lee");
    }

    #[test]
    fn profile_rules_by_role() {
        let cases = [
            (Profile { role: Role::Customer, tier: Some(Tier::General), level: None, takes_calls: false }, true),
            (Profile { role: Role::Customer, tier: None, level: None, takes_calls: false }, false),
            (
                Profile {
                    role: Role::Customer,
                    tier: Some(Tier::Platinum),
                    level: Some(Level::L1),
                    takes_calls: false,
                },
                false,
            ),
            (Profile { role: Role::Agent, tier: None, level: Some(Level::L2), takes_calls: true }, true),
            (Profile { role: Role::Agent, tier: None, level: Some(Level::L4), takes_calls: false }, false),
            (Profile { role: Role::Agent, tier: None, level: None, takes_calls: false }, false),
            (Profile { role: Role::Manager, tier: None, level: Some(Level::L4), takes_calls: true }, true),
            (Profile { role: Role::Manager, tier: None, level: Some(Level::L3), takes_calls: false }, false),
            (Profile { role: Role::Admin, tier: None, level: None, takes_calls: false }, true),
            (Profile { role: Role::Admin, tier: None, level: None, takes_calls: true }, false),
        ];
        for (profile, ok) in cases {
            assert_eq!(check_profile(&profile).is_ok(), ok, "{profile:?}");
        }
    }

    #[test]
    fn changing_role_fills_sensible_defaults() {
        let customer = Profile::customer(Tier::Platinum);
        let agent = apply_patch(customer, &ProfilePatch { role: Some(Role::Agent), ..Default::default() }).unwrap();
        assert_eq!(agent, Profile { role: Role::Agent, tier: None, level: Some(Level::L1), takes_calls: false });
        let manager = apply_patch(agent, &ProfilePatch { role: Some(Role::Manager), ..Default::default() }).unwrap();
        assert_eq!(manager.level, Some(Level::L4));
        let back = apply_patch(manager, &ProfilePatch { role: Some(Role::Customer), ..Default::default() }).unwrap();
        assert_eq!(back, Profile::customer(Tier::General));
        // explicit contradictions are refused, not silently fixed
        let err =
            apply_patch(customer, &ProfilePatch { level: Some(Some(Level::L2)), ..Default::default() }).unwrap_err();
        assert!(err.field("level").is_some());
        let upgraded = apply_patch(
            Profile::customer(Tier::General),
            &ProfilePatch { tier: Some(Some(Tier::Platinum)), ..Default::default() },
        )
        .unwrap();
        assert_eq!(upgraded.tier, Some(Tier::Platinum));
    }

    #[test]
    fn patch_distinguishes_absent_from_null() {
        let p: ProfilePatch = serde_json::from_str(r#"{"level": null}"#).unwrap();
        assert_eq!(p.level, Some(None));
        let p: ProfilePatch = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(p.level, None);
    }

    fn user(id: i64, role: Role) -> User {
        User { id, email: format!("u{id}@x.io"), name: "U".into(), role, tier: None, level: None, takes_calls: false }
    }

    #[test]
    fn who_may_change_whom() {
        let manager = user(1, Role::Manager);
        let admin = user(2, Role::Admin);
        let agent = user(3, Role::Agent);
        let as_agent = Profile { role: Role::Agent, tier: None, level: Some(Level::L2), takes_calls: false };
        let as_admin = Profile { role: Role::Admin, tier: None, level: None, takes_calls: false };
        assert!(may_change_profile(&manager, &agent, &as_agent).is_ok());
        assert_eq!(may_change_profile(&agent, &manager, &as_agent).unwrap_err().status, 403);
        assert_eq!(may_change_profile(&manager, &agent, &as_admin).unwrap_err().status, 403);
        assert_eq!(may_change_profile(&manager, &admin, &as_admin).unwrap_err().status, 403);
        assert!(may_change_profile(&admin, &agent, &as_admin).is_ok());
        assert_eq!(may_change_profile(&admin, &admin, &as_agent).unwrap_err().status, 422);
    }
}
