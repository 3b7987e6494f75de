//! Challenges stakeholders bring.

use super::*;

impl Store {
    // ---- challenges ----

    #[tracing::instrument(skip(self))]
    pub async fn get_challenge(&self, id: Uuid) -> StoreResult<Challenge> {
        on_pool!(self.reader(), |p| async {
            let mut conn = p.acquire().await?;
            (*conn).challenge_by_id(id).await
        }
        .await)?
        .ok_or(StoreError::NotFound)
    }

    #[tracing::instrument(skip(self))]
    pub async fn list_challenges(
        &self,
        filter: &ChallengeFilter,
        order: &ListOrder,
        limit: usize,
    ) -> StoreResult<ListPage<Challenge>> {
        let kind = self.kind();
        let relevance = matches!(order, ListOrder::Relevance { .. }) && filter.words.is_some();
        let rows: Vec<(ChallengeRow, Option<f64>)> = on_pool!(self.reader(), |p, DB| async {
            let mut qb = QueryBuilder::<DB>::new("");
            start_list(&mut qb, kind, &CHALLENGES, filter.words.as_deref(), relevance);
            push_challenge_filters(&mut qb, filter);
            finish_list(&mut qb, &CHALLENGES, order, relevance, limit);
            if relevance {
                let rows: Vec<ScoredChallengeRow> = qb.build_query_as().fetch_all(p).await?;
                Ok::<_, sqlx::Error>(rows.into_iter().map(|r| (r.row, Some(r.score))).collect())
            } else {
                let rows: Vec<ChallengeRow> = qb.build_query_as().fetch_all(p).await?;
                Ok(rows.into_iter().map(|r| (r, None)).collect())
            }
        }
        .await)?;
        let mut items = rows
            .into_iter()
            .map(|(r, score)| Challenge::try_from(r).map(|c| (c, score)))
            .collect::<StoreResult<Vec<_>>>()?;
        let field = sort_field(order);
        let next = next_of(
            &mut items,
            limit,
            order,
            |c| content_keyset(field, c.id, &c.content.title, c.created_at, c.updated_at),
            |c| c.id,
        );
        Ok(ListPage { items: items.into_iter().map(|(c, _)| c).collect(), next })
    }

    #[tracing::instrument(skip(self, content))]
    pub async fn create_challenge(&self, author: Uuid, content: &ChallengeContent) -> StoreResult<Challenge> {
        let at = now();
        let id = crate::db::ids::new_id(crate::db::ids::Kind::Challenge);
        let [title, summary, body] = challenge_search(content);
        on_pool!(self.writer(), |p| {
            async {
            let mut tx = p.begin_write().await?;
            let c = content;
            sqlx::query(
                "insert into challenges (id, author_id, organisation_id, title, description, sector, size_band,
                     target_groups, themes, status, search_title, search_summary, search_body, created_at, updated_at, version)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1)",
            )
            .bind(id)
            .bind(author)
            .bind(c.organisation_id)
            .bind(&c.title)
            .bind(&c.description)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.status.as_str())
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?;
            let challenge = (*tx).challenge_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).record(&[Change::of(&challenge, true, vec![])?]).await?;
            tx.commit().await?;
            Ok(challenge)
        }
        .await
        })
    }

    #[tracing::instrument(skip(self, content))]
    pub async fn update_challenge(
        &self,
        id: Uuid,
        expected_version: i64,
        content: &ChallengeContent,
    ) -> StoreResult<Challenge> {
        let at = now();
        let [title, summary, body] = challenge_search(content);
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let c = content;
            let n = sqlx::query(
                "update challenges set organisation_id = $3, title = $4, description = $5, sector = $6, size_band = $7,
                     target_groups = $8, themes = $9, status = $10, search_title = $11, search_summary = $12,
                     search_body = $13, updated_at = $14, version = version + 1
                 where id = $1 and version = $2",
            )
            .bind(id)
            .bind(expected_version)
            .bind(c.organisation_id)
            .bind(&c.title)
            .bind(&c.description)
            .bind(&c.context.sector)
            .bind(c.context.size_band.map(SizeBand::as_str))
            .bind(to_json(&c.context.target_groups))
            .bind(to_json(&c.themes))
            .bind(c.status.as_str())
            .bind(&title)
            .bind(&summary)
            .bind(&body)
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                let current: Option<i64> = sqlx::query_scalar("select version from challenges where id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                return Err(current.map_or(StoreError::NotFound, |current| StoreError::VersionMismatch { current }));
            }
            let challenge = (*tx).challenge_by_id(id).await?.ok_or(StoreError::NotFound)?;
            (*tx).record(&[Change::of(&challenge, true, vec![])?]).await?;
            tx.commit().await?;
            Ok(challenge)
        }
        .await)
    }

    /// Deletes a challenge with its comments; solutions no longer name it.
    #[tracing::instrument(skip(self))]
    pub async fn delete_challenge(&self, id: Uuid, expected_version: Option<i64>) -> StoreResult<()> {
        on_pool!(self.writer(), |p| async {
            let mut tx = p.begin_write().await?;
            let current: Option<i64> = sqlx::query_scalar("select version from challenges where id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
            let Some(current) = current else { return Err(StoreError::NotFound) };
            if expected_version.is_some_and(|v| v != current) {
                return Err(StoreError::VersionMismatch { current });
            }
            let comments: Vec<(Uuid, i64)> = sqlx::query_as("select id, version from comments where challenge_id = $1")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            sqlx::query("delete from challenges where id = $1").bind(id).execute(&mut *tx).await?;
            let mut changes: Vec<Change> = comments
                .into_iter()
                .map(|(c, v)| Change::delete(ResourceType::Comment, c, v + 1, true, vec![]))
                .collect();
            changes.push(Change::delete(ResourceType::Challenge, id, current + 1, true, vec![]));
            (*tx).record(&changes).await?;
            tx.commit().await?;
            Ok(())
        }
        .await)
    }

    /// The challenges among `ids` that do not exist.
    pub async fn missing_challenges(&self, ids: &[Uuid]) -> StoreResult<Vec<Uuid>> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<Uuid> = on_pool!(self.reader(), |p, DB| {
            let mut qb = QueryBuilder::<DB>::new("select id from challenges where id in (");
            let mut list = qb.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            qb.push(")");
            qb.build_query_scalar().fetch_all(p).await
        })?;
        Ok(ids.iter().filter(|id| !found.contains(id)).copied().collect())
    }
}
