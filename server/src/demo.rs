//! Demo data for a newcomer's first run (`--demo`).

use app::accounts::{service, store, Level, Profile, Role, Tier};
use app::db::Db;

pub const DEMO_PASSWORD: &str = "supportal-demo";

pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub profile: Profile,
    pub what: &'static str,
}

pub fn demo_users() -> Vec<DemoUser> {
    let staff = |role, level, takes_calls| Profile { role, tier: None, level: Some(level), takes_calls };
    vec![
        DemoUser {
            email: "platinum@demo.supportal.test",
            name: "Paula Platinum",
            profile: Profile::customer(Tier::Platinum),
            what: "platinum customer",
        },
        DemoUser {
            email: "general@demo.supportal.test",
            name: "Gene General",
            profile: Profile::customer(Tier::General),
            what: "general customer",
        },
        DemoUser {
            email: "l1@demo.supportal.test",
            name: "Lee Frontline",
            profile: staff(Role::Agent, Level::L1, false),
            what: "L1 agent",
        },
        DemoUser {
            email: "l2@demo.supportal.test",
            name: "Sam Senior",
            profile: staff(Role::Agent, Level::L2, true),
            what: "L2 agent, takes calls",
        },
        DemoUser {
            email: "manager@demo.supportal.test",
            name: "Morgan Manager",
            profile: staff(Role::Manager, Level::L4, false),
            what: "manager (L4)",
        },
    ]
}

/// Creates the demo users that do not exist yet; returns how many were created.
pub async fn seed(db: &Db) -> Result<usize, String> {
    let mut created = 0;
    for u in demo_users() {
        if store::credentials_by_email(db, u.email).await.map_err(|e| e.to_string())?.is_some() {
            continue;
        }
        service::create_user(db, u.email, u.name, DEMO_PASSWORD.to_string(), &u.profile)
            .await
            .map_err(|e| format!("demo user {}: {}", u.email, e.message))?;
        created += 1;
    }
    Ok(created)
}

pub fn print_sign_ins(address: &str) {
    println!();
    println!("  Supportal is running at {address}");
    println!("  Demo sign-ins (password for all: {DEMO_PASSWORD}):");
    for u in demo_users() {
        println!("    {:<32} {}", u.email, u.what);
    }
    println!();
}
