//! Insights in storage: the finest breakdown of a closed period, computed once and kept
//! (decision record 11), event to action protected and kept the same way, and each person's choice to be counted or not.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Europe::Brussels;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Pool, Store, StoreError, StoreResult, execute, invalid_stored, now, on_pool};
use crate::domain::event::EventFormat;
use crate::domain::insights::chain::{ChainCell, Unit, protect_chain, protect_people};
use crate::domain::insights::{
    Breakdown, Counts, Dimension, NONE, Period, Profile, UNKNOWN, age_band_in, nace_section,
};

/// The name learning participation is kept under.
pub const LEARNING_PARTICIPATION: &str = "learning_participation";

/// The name event to action is kept under.
pub const EVENT_TO_ACTION: &str = "event_to_action";

/// The name shared solutions are kept under.
pub const SHARED_SOLUTIONS: &str = "shared_solutions";

/// A sector's shared solutions in a period, as kept: counts of what every signed-in caller
/// lists already, and the people who adopted a solution, protected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SolutionsCell {
    /// The NACE section, `unknown` without one, or `None` for the total.
    pub group: Option<String>,
    /// Challenges posed in the period.
    pub challenges: i64,
    /// Solutions published in the period, by their maturity now: idea, piloted, proven.
    pub published: [i64; 3],
    /// Endorsements of published solutions of the sector made in the period, by anyone:
    /// every caller lists them with their authors, so they count as they are.
    pub endorsements: i64,
    /// Members with a learning record that started in the period and applied a solution of
    /// the sector.
    pub adopters: ChainCell,
}

/// The figures of a period as kept, and when they were computed.
#[derive(Debug, Clone)]
pub struct Kept<T> {
    pub figures: T,
    pub computed_at: DateTime<Utc>,
    /// The `k` the figures are protected with: the setting when they were computed, kept so
    /// that a later change of the setting cannot show two protections of the same figures.
    pub k: i64,
}

/// A member as a period counts them.
#[derive(sqlx::FromRow)]
struct CountedRow {
    stakeholder_group: String,
    birth_year: Option<i32>,
    age_band: Option<String>,
    /// The organisation of the earliest membership in force during the period.
    organisation_id: Option<Uuid>,
    /// Learning records that started in the period.
    records: i64,
    /// Of those, records with a duration, and their minutes.
    timed: i64,
    minutes: i64,
}

/// The learning participation of a period at its finest breakdown.
pub type Snapshot = Kept<Breakdown>;

/// A registration as event to action counts it.
#[derive(sqlx::FromRow)]
struct RegistrationRow {
    person_id: Uuid,
    format: String,
    attended: bool,
    committed: bool,
    done: bool,
    proven: bool,
}

#[derive(sqlx::FromRow)]
struct OrganisationRow {
    id: Uuid,
    sector: Option<String>,
}

/// The first and the last moment of a period: midnight in Brussels, where the network is.
fn brussels_bounds(period: Period) -> (DateTime<Utc>, DateTime<Utc>) {
    let midnight = |day: chrono::NaiveDate| {
        Brussels
            .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .expect("midnight exists in Brussels")
            .with_timezone(&Utc)
    };
    (midnight(period.start()), midnight(period.end()))
}

/// The groups of shared solutions: the NACE sections and `unknown` (no sector given).
pub fn solution_sectors() -> Vec<String> {
    Dimension::Sector.values().into_iter().filter(|v| *v != NONE).map(str::to_string).collect()
}

impl Store {
    /// Learning participation in a closed period: read from its snapshot, or computed from
    /// the live tables and kept on first use.
    #[tracing::instrument(skip(self))]
    pub async fn learning_participation(&self, period: Period, k: i64) -> StoreResult<Snapshot> {
        self.kept(LEARNING_PARTICIPATION, period, k, self.compute_learning_participation(period)).await
    }

    /// Event to action in a closed period: the table by event format, protected with the `k`
    /// of its first computation and kept. It is protected when computed, not when read,
    /// because its disclosure control counts the people behind the figures, which a kept
    /// sum no longer knows.
    #[tracing::instrument(skip(self))]
    pub async fn event_to_action(&self, period: Period, k: i64) -> StoreResult<Kept<Vec<ChainCell>>> {
        let compute = async {
            let units = self.event_units(period).await?;
            let formats: Vec<String> = EventFormat::ALL.iter().map(|f| f.as_str().to_string()).collect();
            Ok(protect_chain(&units, &formats, k))
        };
        self.kept(EVENT_TO_ACTION, period, k, compute).await
    }

    /// Shared solutions in a closed period by sector: challenges posed, solutions published
    /// by maturity, endorsements, and the members who adopted one (protected), kept.
    #[tracing::instrument(skip(self))]
    pub async fn shared_solutions(&self, period: Period, k: i64) -> StoreResult<Kept<Vec<SolutionsCell>>> {
        let compute = async {
            let (start, end) = brussels_bounds(period);
            type Sectors = Vec<(Option<String>,)>;
            type Published = Vec<(Option<String>, String)>;
            type People = Vec<(Uuid, Option<String>)>;
            let (challenges, solutions, endorsements, adopters): (Sectors, Published, Sectors, People) =
                on_pool!(self.reader(), |p| {
                    let challenges =
                        sqlx::query_as("select sector from challenges where created_at >= $1 and created_at < $2")
                            .bind(start)
                            .bind(end)
                            .fetch_all(p)
                            .await?;
                    let solutions = sqlx::query_as(
                        "select sector, maturity from solutions
                      where status = 'published' and published_at >= $1 and published_at < $2",
                    )
                    .bind(start)
                    .bind(end)
                    .fetch_all(p)
                    .await?;
                    let endorsements = sqlx::query_as(
                        "select s.sector from endorsements e join solutions s on s.id = e.solution_id
                      where e.created_at >= $1 and e.created_at < $2 and s.status = 'published'",
                    )
                    .bind(start)
                    .bind(end)
                    .fetch_all(p)
                    .await?;
                    let adopters = sqlx::query_as(
                        "select r.person_id, s.sector from learning_records r
                       join solutions s on s.id = r.solution_id
                       join people p on p.id = r.person_id
                      where r.started_on >= $1 and r.started_on < $2 and s.status = 'published'
                        and p.role = 'member' and p.counted_in_insights",
                    )
                    .bind(period.start())
                    .bind(period.end())
                    .fetch_all(p)
                    .await?;
                    Ok::<_, sqlx::Error>((challenges, solutions, endorsements, adopters))
                })?;
            let section = |code: Option<String>| -> String {
                code.as_deref().and_then(nace_section).unwrap_or(UNKNOWN).to_string()
            };
            let values = solution_sectors();
            let at = |group: &str| values.iter().position(|v| v == group).expect("a section or unknown");
            let mut cells: Vec<SolutionsCell> = std::iter::once(None)
                .chain(values.iter().cloned().map(Some))
                .map(|group| SolutionsCell {
                    group,
                    challenges: 0,
                    published: [0; 3],
                    endorsements: 0,
                    adopters: ChainCell { group: None, shown: vec![], withheld: None },
                })
                .collect();
            for (sector,) in challenges {
                let i = 1 + at(&section(sector));
                cells[i].challenges += 1;
                cells[0].challenges += 1;
            }
            for (sector, maturity) in solutions {
                let i = 1 + at(&section(sector));
                let m = match maturity.as_str() {
                    "idea" => 0,
                    "piloted" => 1,
                    "proven" => 2,
                    _ => return Err(invalid_stored("solution maturity")),
                };
                cells[i].published[m] += 1;
                cells[0].published[m] += 1;
            }
            let people = |rows: Vec<(Uuid, Option<String>)>| -> Vec<(Uuid, String)> {
                rows.into_iter().map(|(person, sector)| (person, section(sector))).collect()
            };
            for (sector,) in endorsements {
                let i = 1 + at(&section(sector));
                cells[i].endorsements += 1;
                cells[0].endorsements += 1;
            }
            let adopters = protect_people(&people(adopters), &values, k);
            for (cell, a) in cells.iter_mut().zip(adopters) {
                cell.adopters = a;
            }
            Ok(cells)
        };
        self.kept(SHARED_SOLUTIONS, period, k, compute).await
    }

    /// A metric's figures for a closed period: read from its snapshot, or computed by
    /// `compute` and kept. Concurrent first uses compute twice and keep the first one
    /// written, so every caller gets the same figures.
    async fn kept<T: Serialize + DeserializeOwned>(
        &self,
        metric: &'static str,
        period: Period,
        k: i64,
        compute: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<Kept<T>> {
        let key = period.to_string();
        if let Some(kept) = Self::read_snapshot(self.reader(), metric, &key).await? {
            return Ok(kept);
        }
        let json = serde_json::to_string(&compute.await?).map_err(|e| StoreError::Other(e.into()))?;
        on_pool!(self.writer(), |p| {
            sqlx::query(
                "insert into insight_snapshots (metric, period, breakdown, computed_at, k) values ($1, $2, $3, $4, $5)
                 on conflict (metric, period) do nothing",
            )
            .bind(metric)
            .bind(&key)
            .bind(&json)
            .bind(now())
            .bind(k)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Self::read_snapshot(self.writer(), metric, &key)
            .await?
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("the snapshot just kept is missing")))
    }

    async fn read_snapshot<T: DeserializeOwned>(
        pool: Pool<'_>,
        metric: &str,
        period: &str,
    ) -> StoreResult<Option<Kept<T>>> {
        let row: Option<(String, DateTime<Utc>, i64)> = on_pool!(pool, |p| {
            sqlx::query_as("select breakdown, computed_at, k from insight_snapshots where metric = $1 and period = $2")
                .bind(metric)
                .bind(period)
                .fetch_optional(p)
                .await
        })?;
        row.map(|(json, computed_at, k)| {
            let figures = serde_json::from_str(&json).map_err(|e| StoreError::Other(e.into()))?;
            Ok(Kept { figures, computed_at, k })
        })
        .transpose()
    }

    /// The units of event to action in a period: per person counted in insights and event
    /// format, whether they attended, committed, did and proved it, over their registrations
    /// holding a seat for events that started in the period, Brussels time (not cancelled
    /// ones). As of now: commitments done or proven after the first computation do not count.
    async fn event_units(&self, period: Period) -> StoreResult<Vec<Unit>> {
        let (start, end) = brussels_bounds(period);
        let rows: Vec<RegistrationRow> = on_pool!(self.reader(), |p| {
            sqlx::query_as(
                "select r.person_id, e.format, r.status = 'attended' as attended,
                        exists (select 1 from commitments c where c.event_id = e.id and c.person_id = r.person_id)
                          as committed,
                        exists (select 1 from commitments c where c.event_id = e.id and c.person_id = r.person_id
                                   and c.status = 'done') as done,
                        exists (select 1 from commitments c where c.event_id = e.id and c.person_id = r.person_id
                                   and c.status = 'done' and c.learning_record_id is not null) as proven
                   from registrations r
                   join events e on e.id = r.event_id
                   join people p on p.id = r.person_id
                  where e.starts_at >= $1 and e.starts_at < $2 and e.status in ('published', 'completed')
                    and r.status in ('confirmed', 'attended', 'no_show')
                    and p.role = 'member' and p.counted_in_insights",
            )
            .bind(start)
            .bind(end)
            .fetch_all(p)
            .await
        })?;
        let mut units: BTreeMap<(Uuid, String), Unit> = BTreeMap::new();
        for r in rows {
            let unit = units
                .entry((r.person_id, r.format.clone()))
                .or_insert_with(|| Unit::new(r.person_id, r.format, false, false, false, false));
            let reached = Unit::new(r.person_id, String::new(), r.attended, r.committed, r.done, r.proven);
            for (step, r) in unit.steps.iter_mut().zip(reached.steps) {
                *step |= r;
            }
        }
        Ok(units.into_values().collect())
    }

    /// The breakdown of a period from the live tables: every member (role `member`) who did
    /// not opt out and was in the network in the period (had an account before it ended, or
    /// a membership in force during it), grouped by their profile as it is now and their
    /// organisation in the period.
    async fn compute_learning_participation(&self, period: Period) -> StoreResult<Breakdown> {
        let (start, end) = (period.start(), period.end());
        let (people, organisations): (Vec<CountedRow>, Vec<OrganisationRow>) = on_pool!(self.reader(), |p| {
            let people = sqlx::query_as(
                "select p.stakeholder_group, p.birth_year, p.age_band,
                        (select m.organisation_id from memberships m
                          where m.person_id = p.id and m.starts_on < $2 and (m.ends_on is null or m.ends_on >= $1)
                          order by m.starts_on, m.id limit 1) as organisation_id,
                        (select count(*) from learning_records r
                          where r.person_id = p.id and r.started_on >= $1 and r.started_on < $2) as records,
                        (select count(*) from learning_records r
                          where r.person_id = p.id and r.started_on >= $1 and r.started_on < $2
                            and r.duration_minutes is not null) as timed,
                        (select cast(coalesce(sum(r.duration_minutes), 0) as bigint) from learning_records r
                          where r.person_id = p.id and r.started_on >= $1 and r.started_on < $2) as minutes
                   from people p
                  where p.role = 'member' and p.counted_in_insights
                    and (p.created_at < $3
                         or exists (select 1 from memberships m
                                     where m.person_id = p.id and m.starts_on < $2
                                       and (m.ends_on is null or m.ends_on >= $1)))",
            )
            .bind(start)
            .bind(end)
            .bind(end.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
            .fetch_all(p)
            .await?;
            let organisations = sqlx::query_as("select id, sector from organisations").fetch_all(p).await?;
            Ok::<_, sqlx::Error>((people, organisations))
        })?;
        let organisations: HashMap<Uuid, OrganisationRow> = organisations.into_iter().map(|o| (o.id, o)).collect();
        let mut groups: BTreeMap<Profile, Counts> = BTreeMap::new();
        for person in people {
            let age_band = match (person.birth_year, person.age_band) {
                (Some(year), _) => age_band_in(year, period.year()).as_str().to_string(),
                (None, Some(band)) => band,
                (None, None) => UNKNOWN.to_string(),
            };
            let organisation = person.organisation_id.and_then(|id| organisations.get(&id));
            let profile = Profile {
                stakeholder_group: person.stakeholder_group,
                age_band,
                sector: match organisation {
                    None => NONE.to_string(),
                    Some(o) => o.sector.as_deref().and_then(nace_section).unwrap_or(UNKNOWN).to_string(),
                },
            };
            *groups.entry(profile).or_default() += Counts::person(person.records > 0, person.minutes, person.timed > 0);
        }
        Ok(groups.into_iter().collect())
    }

    /// Whether the person is counted in insights (they are unless they opted out).
    #[tracing::instrument(skip(self))]
    pub async fn counted_in_insights(&self, person: Uuid) -> StoreResult<bool> {
        on_pool!(self.reader(), |p| {
            sqlx::query_scalar("select counted_in_insights from people where id = $1").bind(person).fetch_one(p).await
        })
        .map_err(Into::into)
    }

    /// Sets whether the person is counted in the figures computed from now on.
    #[tracing::instrument(skip(self))]
    pub async fn set_counted_in_insights(&self, person: Uuid, counted: bool) -> StoreResult<()> {
        let changed =
            execute!(self.writer(), "update people set counted_in_insights = $2 where id = $1", person, counted)?;
        if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }
}
