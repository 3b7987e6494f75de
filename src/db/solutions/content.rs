//! Solutions: drafts, publishing, co-authors, revisions.

use super::*;

impl Store {
    // ---- solutions ----

    #[tracing::instrument(skip(self))]
    pub async fn get_solution(&self, id: Uuid) -> StoreResult<Solution> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).solution_by_id(id).await
        }
        .await)?
        .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_solutions(
        &self,
        filter: &SolutionFilter,
        order: &ListOrder,
        limit: usize,
    ) -> StoreResult<ListPage<Solution>> {
        let kind = self.kind();
        let relevance = matches!(order, ListOrder::Relevance { .. }) && filter.words.is_some();
        let mut items: Vec<(Solution, Option<f64>)> = on_pool!(self.reader(), |p, DB| async {
            let mut conn = p.acquire().await?;
            let mut qb = QueryBuilder::<DB>::new("");
            start_list(&mut qb, kind, &SOLUTIONS, filter.words.as_deref(), relevance);
            push_solution_filters(&mut qb, filter);
            finish_list(&mut qb, &SOLUTIONS, order, relevance, limit);
            let (rows, scores): (Vec<SolutionRow>, Vec<Option<f64>>) = if relevance {
                let rows: Vec<ScoredSolutionRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
                rows.into_iter().map(|r| (r.row, Some(r.score))).unzip()
            } else {
                let rows: Vec<SolutionRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
                rows.into_iter().map(|r| (r, None)).unzip()
            };
            let solutions = (*conn).hydrate(rows).await?;
            Ok::<_, StoreError>(solutions.into_iter().zip(scores).collect())
        }
        .await)?;
        let field = sort_field(order);
        let next = next_of(
            &mut items,
            limit,
            order,
            |s| content_keyset(field, s.id, &s.content.title, s.created_at, s.updated_at),
            |s| s.id,
        );
        Ok(ListPage { items: items.into_iter().map(|(s, _)| s).collect(), next })
    }

    /// Creates a solution with `author` as its first co-author (acting for `organisation`).
    #[tracing::instrument(skip(self, content))]
    pub async fn create_solution(
        &self,
        author: Uuid,
        organisation: Option<Uuid>,
        content: &SolutionContent,
    ) -> StoreResult<Solution> {
        let at = now();
        let id = crate::db::ids::new_id(crate::db::ids::Kind::Solution);
        let [title, summary, body] = solution_search(content);
        let published_at = (content.status == SolutionStatus::Published).then_some(at);
        on_pool!(self.writer(), |p, DB| {
            async {
            let mut tx = p.begin_write().await?;
            let c = content;
            sqlx::query(
                "insert into solutions (id, title, summary, body, event_id, sector, size_band, target_groups, themes,
                     maturity, results, status, published_at, search_title, search_summary, search_body, created_at,
                     updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1)",
            )
            .bind(id)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.body)
            .bind(c.event_id)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.maturity.as_str())
            .bind(&c.results)
            .bind(c.status.as_str())
            .bind(published_at)
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            write_links::<DB>(&mut *tx, id, &c.challenge_ids, false).await?;
            sqlx::query(
                "insert into solution_authors (id, solution_id, person_id, organisation_id, added_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(author)
            .bind(organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).add_revision(&solution, author, RevisionChange::Created).await?;
            (*tx).record(&[solution_change(&solution)?]).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Replaces a solution's content if it is still at revision `expected`; the change is
    /// a new revision by `by`.
    #[tracing::instrument(skip(self, content))]
    pub async fn update_solution(
        &self,
        id: Uuid,
        expected: i64,
        by: Uuid,
        content: &SolutionContent,
    ) -> StoreResult<Solution> {
        let at = now();
        let [title, summary, body] = solution_search(content);
        on_pool!(self.writer(), |p, DB| {
            async {
            let mut tx = p.begin_write().await?;
            let before: Option<(String, Option<DateTime<Utc>>)> =
                sqlx::query_as("select status, published_at from solutions where id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((before_status, published_at)) = before else { return Err(StoreError::NotFound) };
            let publishing = before_status == "draft" && content.status == SolutionStatus::Published;
            if before_status == "published" && content.status == SolutionStatus::Draft {
                return Err(StoreError::conflict(
                    Rule::StatusTransition,
                    "The status cannot change: a published solution stays published.",
                ));
            }
            let c = content;
            let n = sqlx::query(
                "update solutions set title = $3, summary = $4, body = $5, event_id = $6, sector = $7, size_band = $8,
                     target_groups = $9, themes = $10, maturity = $11, results = $12, status = $13, published_at = $14,
                     search_title = $15, search_summary = $16, search_body = $17, updated_at = $18, version = version + 1
                 where id = $1 and version = $2",
            )
            .bind(id)
            .bind(expected)
            .bind(&c.title)
            .bind(&c.summary)
            .bind(&c.body)
            .bind(c.event_id)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.maturity.as_str())
            .bind(&c.results)
            .bind(c.status.as_str())
            .bind(if publishing { Some(at) } else { published_at })
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                let current: i64 = sqlx::query_scalar("select version from solutions where id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                return Err(StoreError::VersionMismatch { current });
            }
            write_links::<DB>(&mut *tx, id, &c.challenge_ids, true).await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            let change = if publishing { RevisionChange::Published } else { RevisionChange::Edited };
            (*tx).add_revision(&solution, by, change).await?;
            let mut changes = vec![solution_change(&solution)?];
            if publishing {
                // The comments made on the draft reached only its co-authors; now everyone.
                changes.extend((*tx).readdress_comments(&solution, None).await?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Adds a co-author; a new revision by `by`. `Conflict` when they already are one.
    #[tracing::instrument(skip(self))]
    pub async fn add_co_author(
        &self,
        id: Uuid,
        by: Uuid,
        person: Uuid,
        organisation: Option<Uuid>,
    ) -> StoreResult<Solution> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if current.is_co_author(person) {
                return Err(StoreError::conflict(Rule::CoAuthor, "This person is a co-author already."));
            }
            (*tx).bump_solution(id, current.version, at).await?;
            sqlx::query(
                "insert into solution_authors (id, solution_id, person_id, organisation_id, added_at) values ($1, $2, $3, $4, $5)",
            )
            .bind(Uuid::now_v7())
            .bind(id)
            .bind(person)
            .bind(organisation)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).add_revision(&solution, by, RevisionChange::CoAuthorAdded).await?;
            let mut changes = vec![solution_change(&solution)?];
            if !solution.is_published() {
                // A draft's comments reach its co-authors: the new one too.
                changes.extend((*tx).readdress_comments(&solution, None).await?);
            }
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Removes a co-author; a new revision by `by`. `Conflict` for the last one.
    #[tracing::instrument(skip(self))]
    pub async fn remove_co_author(&self, id: Uuid, by: Uuid, person: Uuid) -> StoreResult<Solution> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if !current.is_co_author(person) {
                return Err(StoreError::NotFound);
            }
            if current.co_author_ids().len() == 1 {
                return Err(StoreError::conflict(
                    Rule::CoAuthor,
                    "The last co-author cannot leave; invite someone first, or ask a facilitator to delete the solution.",
                ));
            }
            (*tx).bump_solution(id, current.version, at).await?;
            sqlx::query("delete from solution_authors where solution_id = $1 and person_id = $2")
                .bind(id)
                .bind(person)
                .execute(&mut *tx)
                .await?;
            let solution = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).add_revision(&solution, by, RevisionChange::CoAuthorRemoved).await?;
            let mut changes = Vec::new();
            if !solution.is_published() {
                // A draft and its comments disappear from the feed of whoever left it.
                changes.push(Change::withdraw(ResourceType::Solution, id, solution.version, vec![person]));
                changes.extend((*tx).readdress_comments(&solution, Some(person)).await?);
            }
            changes.push(solution_change(&solution)?);
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(solution)
        }
        .await
        })
    }

    /// Deletes a solution with its revisions, endorsements and comments (tombstones for
    /// each); learning records that named it no longer do.
    #[tracing::instrument(skip(self))]
    pub async fn delete_solution(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).solution_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            let public = current.is_published();
            let audience = current.co_author_ids();
            let comments: Vec<(Uuid, i64)> = sqlx::query_as("select id, version from comments where solution_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            let endorsements: Vec<(Uuid, i64)> =
                sqlx::query_as("select id, version from endorsements where solution_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("delete from solutions where id = $1").bind(id).execute(&mut *tx).await?;
            let mut changes: Vec<Change> = comments
                .into_iter()
                .map(|(c, v)| Change::delete(ResourceType::Comment, c, v + 1, public, audience.clone()))
                .collect();
            changes.extend(
                endorsements
                    .into_iter()
                    .map(|(e, v)| Change::delete(ResourceType::Endorsement, e, v + 1, true, vec![])),
            );
            changes.push(Change::delete(ResourceType::Solution, id, current.version + 1, public, audience));
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// Revisions of a solution, newest first, before revision `before`.
    #[tracing::instrument(skip(self))]
    pub async fn list_revisions(&self, id: Uuid, before: Option<i64>, limit: usize) -> StoreResult<Page<Revision>> {
        let rows: Vec<RevisionRow> = on_pool!(self.reader(), |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REVISION_SELECT} where v.solution_id = $1 and v.number < $2 order by v.number desc limit $3"
        )))
        .bind(id)
        .bind(before.unwrap_or(i64::MAX))
        .bind(i64::try_from(limit + 1).unwrap_or(i64::MAX))
        .fetch_all(p)
        .await)?;
        Page::<Revision>::try_from_rows(rows, limit, |r| Keyset {
            value: SortValue::Text(r.number.to_string()),
            id: Uuid::nil(),
        })
    }

    #[tracing::instrument(skip(self))]
    pub async fn get_revision(&self, id: Uuid, number: i64) -> StoreResult<Revision> {
        let row: Option<RevisionRow> = on_pool!(self.reader(), |p| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REVISION_SELECT} where v.solution_id = $1 and v.number = $2"
        )))
        .bind(id)
        .bind(number)
        .fetch_optional(p)
        .await)?;
        row.ok_or(StoreError::NotFound)?.try_into()
    }

    // ---- a person's own ----

    /// Everything a person wrote or endorsed, for their export.
    #[tracing::instrument(skip(self))]
    pub async fn authored_by(&self, person: Uuid) -> StoreResult<AuthoredContent> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            let rows: Vec<SolutionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {SOLUTION_COLUMNS} from solutions s where exists
                     (select 1 from solution_authors a where a.solution_id = s.id and a.person_id = $1)
                 order by s.created_at, s.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            let solutions = (*conn).hydrate(rows).await?;
            let challenges: Vec<ChallengeRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select {CHALLENGE_COLUMNS} from challenges c where c.author_id = $1 order by c.created_at, c.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            let comments: Vec<CommentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{COMMENT_SELECT} where m.author_id = $1 order by m.created_at, m.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            let endorsements: Vec<EndorsementRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "{ENDORSEMENT_SELECT} where e.person_id = $1 order by e.created_at, e.id"
            )))
            .bind(person)
            .fetch_all(&mut *conn)
            .await?;
            Ok::<_, StoreError>(AuthoredContent {
                solutions,
                challenges: challenges.into_iter().map(Challenge::try_from).collect::<StoreResult<_>>()?,
                comments: comments.into_iter().map(Comment::try_from).collect::<StoreResult<_>>()?,
                endorsements: endorsements.into_iter().map(Endorsement::from).collect(),
            })
        }
        .await)
    }
}
