//! `fieldforge seed-demo`: a believable small company, built through the
//! domain use cases (so every rule and journal row applies), into an empty
//! database only.

use chrono::{Duration, DurationRound, Utc};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::auth::token::TokenService;
use crate::domain::DomainError;
use crate::domain::billing::{self, NewPayment};
use crate::domain::completion::{self, Completion, Material};
use crate::domain::customers::{self, CustomerFields};
use crate::domain::jobs::{self, Assignment, NewJob};
use crate::domain::location::Patch;
use crate::domain::money;
use crate::domain::technicians::{self, TechnicianFields};
use crate::domain::users::{self, NewUser};
use crate::entities::enums::{JobPriority, PaymentMethod, Role};
use crate::entities::{customer, invoice, user};

pub const DEMO_PASSWORD: &str = "fieldforge-demo";

pub struct DemoLogin {
    pub email: String,
    pub role: Role,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("the database already has data; seed-demo only fills an empty database")]
    NotEmpty,
    #[error("{0}")]
    Domain(#[from] DomainError),
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

const FIRST_NAMES: [&str; 20] = [
    "Ava", "Ben", "Chloe", "Dev", "Elena", "Finn", "Grace", "Hugo", "Isla", "Jonas", "Keira", "Liam", "Maya", "Noah",
    "Olive", "Priya", "Quinn", "Rosa", "Sami", "Theo",
];
const LAST_NAMES: [&str; 10] =
    ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Kowalski", "Haddad", "Fischer", "Silva", "Byrne", "Novak"];
const STREETS: [&str; 8] =
    ["Elm Street", "Harbour Road", "Mill Lane", "Station Avenue", "Orchard Way", "Kings Row", "Bridge St", "Park Rise"];
const WORK: [(&str, i32); 10] = [
    ("Boiler annual service", 2),
    ("Leaking kitchen tap", 1),
    ("No hot water", 3),
    ("Radiator replacement", 3),
    ("Heat pump commissioning", 5),
    ("Fuse box inspection", 4),
    ("Blocked drain", 1),
    ("Thermostat install", 2),
    ("Gas safety certificate", 4),
    ("Underfloor heating fault", 5),
];

/// Seeds an empty database and returns the demo logins.
/// Bristol's centre (WGS 84): the demo company works around it.
const BRISTOL: (f64, f64) = (51.4545, -2.5879);

/// A deterministic spread of ±`spread` degrees around `centre`.
fn around(centre: f64, n: usize, spread: f64) -> f64 {
    let step = ((n * 7919) % 1000) as f64 / 1000.0; // 0..1, well mixed
    ((centre + (step * 2.0 - 1.0) * spread) * 1e5).round() / 1e5
}

pub async fn seed(db: &DatabaseConnection, tokens: &TokenService) -> Result<Vec<DemoLogin>, SeedError> {
    if user::Entity::find().count(db).await? > 0 || customer::Entity::find().count(db).await? > 0 {
        return Err(SeedError::NotEmpty);
    }
    let mut logins = Vec::new();
    let mut account = |email: &str, role: Role| {
        logins.push(DemoLogin { email: email.to_owned(), role });
        NewUser { email: email.to_owned(), password: DEMO_PASSWORD.to_owned(), name: String::new(), role }
    };

    let mut new_admin = account("admin@fieldforge.demo", Role::Admin);
    new_admin.name = "Alex Admin".into();
    let admin_session = users::register(db, tokens, None, new_admin).await?;
    let admin = users::load_actor(db, admin_session.user.id, admin_session.user.session_epoch).await?;

    for (n, name) in ["Dana Dispatch", "Sol Scheduler"].iter().enumerate() {
        let mut new_user = account(&format!("dispatcher{}@fieldforge.demo", n + 1), Role::Dispatcher);
        new_user.name = (*name).into();
        users::register(db, tokens, Some(&admin), new_user).await?;
    }

    let mut technician_ids = Vec::new();
    for n in 0..8 {
        let name = format!("{} {}", FIRST_NAMES[n], LAST_NAMES[n]);
        let mut new_user = account(&format!("tech{}@fieldforge.demo", n + 1), Role::Technician);
        new_user.name = name.clone();
        let login = users::register(db, tokens, Some(&admin), new_user).await?;
        let technician = technicians::create(
            db,
            &admin,
            TechnicianFields {
                name: Some(name),
                email: Some(login.user.email.clone()),
                phone: Some(format!("+44 7700 900{:03}", 100 + n)),
                skill_level: Some(1 + (n as i32 % 5)),
                hourly_rate: Some(Decimal::new(4500 + 750 * n as i64, 2)),
                active: Some(true),
                user_id: Some(login.user.id),
                base_latitude: Patch::Value(around(BRISTOL.0, n, 0.12)),
                base_longitude: Patch::Value(around(BRISTOL.1, n + 3, 0.20)),
            },
        )
        .await?;
        technician_ids.push((technician.id, technician.skill_level));
    }

    let mut customer_ids = Vec::new();
    for n in 0..40 {
        let name = format!("{} {}", FIRST_NAMES[(n + 8) % 20], LAST_NAMES[(n * 3) % 10]);
        let created = customers::create(
            db,
            &admin,
            CustomerFields {
                email: Some(format!("{}@example.com", name.to_lowercase().replace(' ', "."))),
                phone: Some(format!("+44 20 7946 {:04}", 1000 + n * 37)),
                address: Some(format!("{} {}, Bristol", 1 + (n * 7) % 120, STREETS[n % STREETS.len()])),
                name: Some(name),
                latitude: Patch::Value(around(BRISTOL.0, n * 7 + 1, 0.06)),
                longitude: Patch::Value(around(BRISTOL.1, n * 11 + 5, 0.10)),
            },
        )
        .await?;
        customer_ids.push(created.id);
    }

    // Sixty jobs over the coming two weeks: every status of the lifecycle.
    let today = Utc::now().duration_trunc(Duration::days(1)).unwrap_or_else(|_| Utc::now());
    for n in 0..60usize {
        let (title, skill) = WORK[n % WORK.len()];
        let priority = [JobPriority::Normal, JobPriority::Low, JobPriority::High, JobPriority::Urgent][n % 4];
        let job = jobs::create(
            db,
            &admin,
            NewJob {
                customer_id: customer_ids[n % customer_ids.len()],
                title: title.into(),
                description: Some(format!("Reported by phone. Access via side gate. Ref {:05}.", 20_000 + n)),
                priority,
                required_skill_level: skill,
            },
        )
        .await?;
        if n % 6 == 0 {
            continue; // stays PENDING
        }
        let capable: Vec<_> = technician_ids.iter().filter(|(_, level)| *level >= skill).collect();
        let technician = capable[n % capable.len()].0;
        let day = (n % 14) as i64;
        let hour = 8 + (n / 14) as i64 * 2;
        let starts_at = today + Duration::days(day) + Duration::hours(hour);
        let assigned = jobs::assign(
            db,
            &admin,
            Assignment {
                job_id: job.id,
                technician_id: technician,
                starts_at,
                ends_at: starts_at + Duration::hours(2),
            },
        )
        .await;
        match assigned {
            Ok(_) => {}
            Err(DomainError::Conflict { .. }) => continue,
            Err(other) => return Err(other.into()),
        }
        match n % 6 {
            1 => {
                jobs::cancel(db, &admin, job.id, Some("Customer rescheduled".into())).await?;
            }
            2 if day <= 1 => {
                jobs::start(db, &admin, job.id).await?;
            }
            3 if day <= 3 => {
                // Done today: invoiced, and every other one paid.
                jobs::start(db, &admin, job.id).await?;
                let completion = Completion {
                    notes: Some("Work completed; customer signed off.".into()),
                    labor_hours: Some(Decimal::new(150 + 25 * (n as i64 % 4), 2)),
                    materials: vec![Material {
                        description: "Parts and consumables".into(),
                        quantity: Decimal::new(1 + n as i64 % 3, 0),
                        unit_price: Decimal::new(1250 + 99 * n as i64, 2),
                    }],
                };
                let invoiced = completion::complete(db, &admin, job.id, completion).await?;
                if n % 12 == 3 {
                    let issued = invoice::Entity::find()
                        .filter(invoice::Column::JobId.eq(invoiced.id))
                        .one(db)
                        .await?
                        .ok_or_else(|| DomainError::internal("invoice missing"))?;
                    let payment = NewPayment {
                        invoice_id: issued.id,
                        amount: money::from_cents(issued.total_cents),
                        method: PaymentMethod::Card,
                        reference: Some(format!("POS-{:05}", n)),
                        idempotency_key: None,
                    };
                    billing::record_payment(db, &admin, payment).await?;
                }
            }
            _ => {}
        }
    }
    Ok(logins)
}

/// The logins, for the terminal.
pub fn describe(logins: &[DemoLogin]) -> String {
    let mut text = format!("Demo company created. Every login's password is \"{DEMO_PASSWORD}\":\n");
    for login in logins {
        text.push_str(&format!("  {:<10} {}\n", login.role.as_str(), login.email));
    }
    text
}
