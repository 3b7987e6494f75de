//! Endorsements and comments on solutions.

use super::*;

impl Store {
    // ---- endorsements ----

    /// Endorses a published solution, or replaces the person's note and organisation.
    /// Returns the endorsement and whether it is new.
    #[tracing::instrument(skip(self, note))]
    pub async fn put_endorsement(
        &self,
        solution: Uuid,
        person: Uuid,
        organisation: Option<Uuid>,
        note: Option<&str>,
    ) -> StoreResult<(Endorsement, bool)> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).endorsement_by(solution, person).await?;
            let created = current.is_none();
            match &current {
                Some(e) if e.organisation_id == organisation && e.note.as_deref() == note => {
                    return Ok((e.clone(), false));
                }
                Some(e) => {
                    sqlx::query(
                        "update endorsements set organisation_id = $2, note = $3, updated_at = $4, version = version + 1
                         where id = $1",
                    )
                    .bind(e.id)
                    .bind(organisation)
                    .bind(note)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query(
                        "insert into endorsements (id, solution_id, person_id, organisation_id, note, created_at, updated_at, version)
                         values ($1, $2, $3, $4, $5, $6, $6, 1)",
                    )
                    .bind(Uuid::now_v7())
                    .bind(solution)
                    .bind(person)
                    .bind(organisation)
                    .bind(note)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            let e = (*tx).endorsement_by(solution, person).await?.ok_or(StoreError::NotFound)?;
            (*tx).record(&[Change::of(&e, true, vec![])?]).await?;
            tx.commit().await?;
            Ok((e, created))
        }
        .await
        })
    }

    /// A person's endorsement of a solution, if any.
    #[tracing::instrument(skip(self))]
    pub async fn endorsement_of(&self, solution: Uuid, person: Uuid) -> StoreResult<Option<Endorsement>> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).endorsement_by(solution, person).await
        }
        .await)
    }

    /// Withdraws a person's endorsement; `false` when there was none.
    #[tracing::instrument(skip(self))]
    pub async fn delete_endorsement(&self, solution: Uuid, person: Uuid) -> StoreResult<bool> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let gone: Option<(Uuid, i64)> = sqlx::query_as(
                "delete from endorsements where solution_id = $1 and person_id = $2 returning id, version",
            )
            .bind(solution)
            .bind(person)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((id, version)) = gone else { return Ok(false) };
            (*tx).record(&[Change::delete(ResourceType::Endorsement, id, version + 1, true, vec![])]).await?;
            tx.commit().await?;
            Ok(true)
        }
        .await)
    }

    /// A solution's endorsements, oldest first.
    #[tracing::instrument(skip(self))]
    pub async fn list_endorsements(
        &self,
        solution: Uuid,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Endorsement>> {
        let rows: Vec<EndorsementRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select * from ({ENDORSEMENT_SELECT} where e.solution_id = "));
            qb.push_bind(solution).push(") t where 1 = 1");
            let sort = Sort { field: ContentSort::CreatedAt, descending: false };
            sort.push_page(&mut qb, after, limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        let items: Vec<Endorsement> = rows.into_iter().map(Endorsement::from).collect();
        Ok(Page::from_rows(items, limit, |e| Keyset { value: SortValue::Time(e.created_at), id: e.id }))
    }

    // ---- comments ----

    #[tracing::instrument(skip(self))]
    pub async fn get_comment(&self, id: Uuid) -> StoreResult<Comment> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).comment_by_id(id).await
        }
        .await)?
        .ok_or(StoreError::NotFound)
    }

    /// Adds a comment (a reply when `parent` is given; the caller checked that the parent
    /// is a top-level comment on the same target).
    #[tracing::instrument(skip(self, body))]
    pub async fn create_comment(
        &self,
        target: CommentTarget,
        parent: Option<Uuid>,
        author: Uuid,
        body: &str,
    ) -> StoreResult<Comment> {
        let at = now();
        let id = crate::db::ids::new_id(crate::db::ids::Kind::Comment);
        let (challenge, solution) = match target {
            CommentTarget::Challenge(c) => (Some(c), None),
            CommentTarget::Solution(s) => (None, Some(s)),
        };
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            sqlx::query(
                "insert into comments (id, challenge_id, solution_id, parent_id, author_id, body, hidden, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, false, $7, $7, 1)",
            )
            .bind(id)
            .bind(challenge)
            .bind(solution)
            .bind(parent)
            .bind(author)
            .bind(body)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let comment = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
            let change = (*tx).comment_change(&comment).await?;
            (*tx).record(&[change]).await?;
            tx.commit().await?;
            Ok(comment)
        }
        .await
        })
    }

    /// Changes a comment's body and hidden flag if it is still at `expected_version` (when given).
    #[tracing::instrument(skip(self, body))]
    pub async fn update_comment(
        &self,
        id: Uuid,
        expected_version: Option<i64>,
        body: &str,
        hidden: bool,
        hidden_by: Option<Uuid>,
    ) -> StoreResult<Comment> {
        let at = now();
        on_pool!(self.writer(), |p| {
            async {
                let mut tx = p.begin_write().await?;
                let current = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
                let expected = expected_version.unwrap_or(current.version);
                // The version in the `where` makes the write atomic with the read it was decided
                // on: a concurrent hide is never undone by an edit based on the comment before it.
                // Whoever hid it stays recorded while it stays hidden.
                let n = sqlx::query(
                    "update comments set body = $3, hidden = $4,
                     hidden_by = case when hidden = $4 then hidden_by else $5 end,
                     updated_at = $6, version = version + 1
                 where id = $1 and version = $2",
                )
                .bind(id)
                .bind(expected)
                .bind(body)
                .bind(hidden)
                .bind(hidden_by)
                .bind(at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    return Err(StoreError::VersionMismatch { current: current.version });
                }
                let comment = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
                // The update replaces the feed's earlier entries, which carried the text.
                let change = (*tx).comment_change(&comment).await?;
                (*tx).record(&[change]).await?;
                tx.commit().await?;
                Ok(comment)
            }
            .await
        })
    }

    /// Deletes a comment and its replies (tombstones for each).
    #[tracing::instrument(skip(self))]
    pub async fn delete_comment(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let current = (*tx).comment_by_id(id).await?.ok_or(StoreError::NotFound)?;
            if expected_version.is_some_and(|v| v != current.version) {
                return Err(StoreError::VersionMismatch { current: current.version });
            }
            let template = (*tx).comment_change(&current).await?;
            let gone: Vec<(Uuid, i64)> =
                sqlx::query_as("select id, version from comments where id = $1 or parent_id = $1")
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
            sqlx::query("delete from comments where id = $1").bind(id).execute(&mut *tx).await?;
            let changes: Vec<Change> = gone
                .into_iter()
                .map(|(c, v)| {
                    Change::delete(ResourceType::Comment, c, v + 1, template.public, template.audience.clone())
                })
                .collect();
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// The comments on a challenge or solution, oldest first (replies carry their parent).
    #[tracing::instrument(skip(self))]
    pub async fn list_comments(
        &self,
        target: CommentTarget,
        after: Option<&Keyset>,
        limit: usize,
    ) -> StoreResult<Page<Comment>> {
        let rows: Vec<CommentRow> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new(format!("select * from ({COMMENT_SELECT} where "));
            match target {
                CommentTarget::Challenge(c) => qb.push("m.challenge_id = ").push_bind(c),
                CommentTarget::Solution(s) => qb.push("m.solution_id = ").push_bind(s),
            };
            qb.push(") t where 1 = 1");
            let sort = Sort { field: ContentSort::CreatedAt, descending: false };
            sort.push_page(&mut qb, after, limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        Page::<Comment>::try_from_rows(rows, limit, |c| Keyset { value: SortValue::Time(c.created_at), id: c.id })
    }
}
