//! The SQL of delivery events, shared by both backends like `sql.rs`: raw deliveries, the
//! ledger derived from them and its cursor. Expanded inside
//! [`impl_sql_store!`](crate::impl_sql_store), whose `sql`, `q`, `placeholder`, `begin_write`
//! and `append_audit_in` it uses.
//!
//! Deliveries are numbered by the database (`AUTOINCREMENT`, `BIGSERIAL`) and the ledger reads
//! them by number (`deliveries_after(cursor)`), so a number must never become visible after a
//! greater one: the ledger would have moved past it. SQLite has one writer at a time; on
//! PostgreSQL numbers are drawn at insert and seen at commit, so acceptance takes the table's
//! lock first and numbers are seen in the order they were drawn.

/// [`DeliveryStore`](crate::DeliveryStore) for `$store`.
#[doc(hidden)]
#[macro_export]
macro_rules! __delivery_methods {
    ($store:ty, $db:ty) => {
type DeliveryTuple = (i64, String, String, i64, String, Vec<u8>, bool);

const DELIVERY_COLUMNS: &str = "seq, source, delivery_id, received_at, headers, body, expired";

fn delivery_from(t: DeliveryTuple) -> $crate::StoredDelivery {
    $crate::StoredDelivery {
        seq: t.0,
        source: t.1,
        delivery_id: t.2,
        received_at: t.3,
        headers: t.4,
        body: t.5,
        expired: t.6,
    }
}

/// `(?, ?), (?, ?), …` for `rows` pairs: the right side of `(a, b) IN (VALUES …)`.
fn pairs(rows: usize) -> String {
    (0..rows)
        .map(|i| format!("({}, {})", placeholder(2 * i + 1), placeholder(2 * i + 2)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A count from the database, which is never negative.
fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[::async_trait::async_trait]
impl $crate::DeliveryStore for $store {
    async fn accept_deliveries(
        &self,
        deliveries: &[$crate::NewDelivery],
        audit: &[$crate::audit::AuditEvent],
    ) -> $crate::Result<Vec<$crate::Accepted>> {
        use ::std::collections::hash_map::{Entry, HashMap};
        if deliveries.is_empty() && audit.is_empty() {
            return Ok(Vec::new());
        }
        // The first of each (source, id) in the batch is a candidate; the others are its
        // duplicates whatever becomes of it.
        let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(deliveries.len());
        let mut candidates = Vec::with_capacity(deliveries.len());
        for (i, d) in deliveries.iter().enumerate() {
            if let Entry::Vacant(slot) = first.entry((d.source.as_str(), d.delivery_id.as_str())) {
                slot.insert(i);
                candidates.push(i);
            }
        }
        let mut outcome: Vec<Option<$crate::Accepted>> = vec![None; deliveries.len()];
        let mut tx = begin_write(&self.writer).await?;
        if <$db as ::sqlx::Database>::NAME == "PostgreSQL" && !candidates.is_empty() {
            // See the module comment: numbers must be seen in the order they are drawn.
            // EXCLUSIVE lets readers on and keeps other writers of the table waiting.
            ::sqlx::query("LOCK TABLE event_deliveries IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .map_err(q("locking the deliveries"))?;
        }
        for chunk in candidates.chunks($crate::ROWS_PER_STATEMENT) {
            let mut text = $crate::multi_row_insert(
                "event_deliveries",
                &["source", "delivery_id", "received_at", "headers", "body"],
                chunk.len(),
                placeholder,
            );
            text.push_str(" ON CONFLICT (source, delivery_id) DO NOTHING RETURNING seq, source, delivery_id");
            let mut query = ::sqlx::query_as::<_, (i64, String, String)>(::sqlx::AssertSqlSafe(text));
            for &i in chunk {
                let d = &deliveries[i];
                query = query
                    .bind(d.source.as_str())
                    .bind(d.delivery_id.as_str())
                    .bind(d.received_at)
                    .bind(d.headers.as_str())
                    .bind(d.body.as_slice());
            }
            let inserted = query.fetch_all(&mut *tx).await.map_err(q("recording deliveries"))?;
            for (seq, source, delivery_id) in inserted {
                if let Some(&i) = first.get(&(source.as_str(), delivery_id.as_str())) {
                    outcome[i] = Some($crate::Accepted::New { seq });
                }
            }
        }
        // The candidates not inserted were recorded before (rare: a sender's retry).
        let known: Vec<usize> = candidates.iter().copied().filter(|&i| outcome[i].is_none()).collect();
        for chunk in known.chunks($crate::ROWS_PER_STATEMENT) {
            let text = sql(&format!(
                "SELECT seq, source, delivery_id FROM event_deliveries WHERE (source, delivery_id) IN (VALUES {})",
                pairs(chunk.len())
            ));
            let mut query = ::sqlx::query_as::<_, (i64, String, String)>(::sqlx::AssertSqlSafe(text));
            for &i in chunk {
                query = query.bind(deliveries[i].source.as_str()).bind(deliveries[i].delivery_id.as_str());
            }
            let found = query.fetch_all(&mut *tx).await.map_err(q("reading recorded deliveries"))?;
            for (seq, source, delivery_id) in found {
                if let Some(&i) = first.get(&(source.as_str(), delivery_id.as_str())) {
                    outcome[i] = Some($crate::Accepted::Duplicate { seq });
                }
            }
        }
        append_audit_in(&mut tx, audit).await?;
        let mut accepted = Vec::with_capacity(deliveries.len());
        for (i, d) in deliveries.iter().enumerate() {
            let head = first
                .get(&(d.source.as_str(), d.delivery_id.as_str()))
                .copied()
                .unwrap_or(i);
            let Some(seen) = outcome[head] else {
                // Neither inserted nor found: only a database breaking its own constraint
                // could do that. Nothing is committed.
                return Err($crate::StoreError::query(
                    "recording deliveries",
                    ::std::io::Error::other(format!(
                        "delivery {}/{} was neither recorded nor found",
                        d.source, d.delivery_id
                    )),
                ));
            };
            accepted.push(if head == i { seen } else { $crate::Accepted::Duplicate { seq: seen.seq() } });
        }
        tx.commit().await.map_err(q("committing"))?;
        Ok(accepted)
    }

    async fn deliveries_after(&self, after: i64, limit: usize) -> $crate::Result<Vec<$crate::StoredDelivery>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let rows: Vec<DeliveryTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE seq > ? ORDER BY seq LIMIT ?"
        ))))
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading deliveries"))?;
        Ok(rows.into_iter().map(delivery_from).collect())
    }

    async fn delivery(&self, source: &str, delivery_id: &str) -> $crate::Result<Option<$crate::StoredDelivery>> {
        let row: Option<DeliveryTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE source = ? AND delivery_id = ?"
        ))))
        .bind(source)
        .bind(delivery_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(q("reading a delivery"))?;
        Ok(row.map(delivery_from))
    }

    async fn deliveries_of(&self, source: &str, after: i64, limit: usize) -> $crate::Result<Vec<$crate::StoredDelivery>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        // The (source, delivery_id) key finds the source's rows; there are few of them.
        let rows: Vec<DeliveryTuple> = ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM event_deliveries WHERE source = ? AND seq > ? ORDER BY seq LIMIT ?"
        ))))
        .bind(source)
        .bind(after)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(q("reading deliveries of a source"))?;
        Ok(rows.into_iter().map(delivery_from).collect())
    }

    async fn ledger_cursor(&self) -> $crate::Result<i64> {
        ::sqlx::query_scalar(::sqlx::AssertSqlSafe(sql("SELECT ledger_cursor FROM delivery_state WHERE id = 1")))
            .fetch_one(&self.pool)
            .await
            .map_err(q("reading the ledger's cursor"))
    }

    async fn commit_ledger(
        &self,
        rows: &[$crate::LedgerRow],
        cursor: i64,
        audit: &[$crate::audit::AuditEvent],
    ) -> $crate::Result<()> {
        use ::std::collections::HashMap;
        // The last row of a key wins, as if each were upserted in turn; PostgreSQL refuses a
        // statement that would update one row twice, so repeats are dropped here.
        let mut last: HashMap<(i16, &str), usize> = HashMap::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            last.insert((row.kind, row.key.as_str()), i);
        }
        let unique: Vec<&$crate::LedgerRow> = rows
            .iter()
            .enumerate()
            .filter(|(i, row)| last.get(&(row.kind, row.key.as_str())) == Some(i))
            .map(|(_, row)| row)
            .collect();
        let mut tx = begin_write(&self.writer).await?;
        for chunk in unique.chunks($crate::ROWS_PER_STATEMENT) {
            let mut text = $crate::multi_row_insert("delivery_ledger", &["kind", "key", "body"], chunk.len(), placeholder);
            text.push_str(" ON CONFLICT (kind, key) DO UPDATE SET body = excluded.body");
            let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(text));
            for row in chunk {
                query = query.bind(row.kind).bind(row.key.as_str()).bind(row.body.as_slice());
            }
            query.execute(&mut *tx).await.map_err(q("writing ledger rows"))?;
        }
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE delivery_state SET ledger_cursor = ? WHERE id = 1")))
            .bind(cursor)
            .execute(&mut *tx)
            .await
            .map_err(q("moving the ledger's cursor"))?;
        append_audit_in(&mut tx, audit).await?;
        tx.commit().await.map_err(q("committing"))?;
        Ok(())
    }

    async fn visit_ledger(&self, visit: &mut (dyn FnMut($crate::LedgerRow) + Send)) -> $crate::Result<()> {
        use ::futures_util::TryStreamExt;
        let mut rows = ::sqlx::query_as::<_, (i16, String, Vec<u8>)>(::sqlx::AssertSqlSafe(sql(
            "SELECT kind, key, body FROM delivery_ledger ORDER BY kind, key",
        )))
        .fetch(&self.pool);
        while let Some((kind, key, body)) = rows.try_next().await.map_err(q("reading the ledger"))? {
            visit($crate::LedgerRow { kind, key, body });
        }
        Ok(())
    }

    async fn reset_ledger(&self, audit: &[$crate::audit::AuditEvent]) -> $crate::Result<u64> {
        let mut tx = begin_write(&self.writer).await?;
        let deleted = ::sqlx::query(::sqlx::AssertSqlSafe(sql("DELETE FROM delivery_ledger")))
            .execute(&mut *tx)
            .await
            .map_err(q("deleting the ledger"))?
            .rows_affected();
        ::sqlx::query(::sqlx::AssertSqlSafe(sql("UPDATE delivery_state SET ledger_cursor = 0 WHERE id = 1")))
            .execute(&mut *tx)
            .await
            .map_err(q("moving the ledger's cursor"))?;
        append_audit_in(&mut tx, audit).await?;
        tx.commit().await.map_err(q("committing"))?;
        Ok(deleted)
    }

    async fn delivery_stats(&self) -> $crate::Result<$crate::DeliveryStats> {
        // One statement: on PostgreSQL its parts read one snapshot. octet_length: bytes, where
        // length() counts a text's characters.
        let (deliveries, expired, payload_bytes, last_seq, cursor, ledger_rows): (i64, i64, i64, i64, i64, i64) =
            ::sqlx::query_as(::sqlx::AssertSqlSafe(sql(
                "SELECT d.n, d.expired, d.bytes, d.last_seq, s.ledger_cursor, (SELECT count(*) FROM delivery_ledger) \
                 FROM (SELECT count(*) AS n, count(*) FILTER (WHERE expired) AS expired, \
                              COALESCE(sum(octet_length(headers) + octet_length(body)) FILTER (WHERE NOT expired), 0) AS bytes, \
                              COALESCE(max(seq), 0) AS last_seq \
                       FROM event_deliveries) AS d, delivery_state AS s \
                 WHERE s.id = 1",
            )))
            .fetch_one(&self.pool)
            .await
            .map_err(q("counting deliveries"))?;
        Ok($crate::DeliveryStats {
            deliveries: count(deliveries),
            expired: count(expired),
            payload_bytes: count(payload_bytes),
            last_seq,
            cursor,
            ledger_rows: count(ledger_rows),
        })
    }

    async fn expire_deliveries(&self, retention: &$crate::DeliveryRetention) -> $crate::Result<u64> {
        let keep = i64::try_from(retention.keep_at_least).unwrap_or(i64::MAX);
        // Below the keep_at_least-th newest delivery (none when there are fewer).
        let newest_kept = if keep == 0 {
            ""
        } else {
            " AND seq < COALESCE((SELECT seq FROM event_deliveries ORDER BY seq DESC LIMIT 1 OFFSET ?), 0)"
        };
        let kept_sources = if retention.kept_sources.is_empty() {
            String::new()
        } else {
            let marks = vec!["?"; retention.kept_sources.len()].join(", ");
            format!(" AND source NOT IN ({marks})")
        };
        let text = sql(&format!(
            "UPDATE event_deliveries SET headers = ?, body = ?, expired = ? \
             WHERE NOT expired AND seq <= (SELECT ledger_cursor FROM delivery_state WHERE id = 1) \
             AND received_at < ?{kept_sources}{newest_kept}"
        ));
        let mut query = ::sqlx::query(::sqlx::AssertSqlSafe(text))
            .bind("")
            .bind(&[][..] as &[u8])
            .bind(true)
            .bind(retention.received_before);
        for source in retention.kept_sources {
            query = query.bind(*source);
        }
        if keep > 0 {
            query = query.bind(keep - 1);
        }
        Ok(query
            .execute(&self.writer)
            .await
            .map_err(q("releasing delivery payloads"))?
            .rows_affected())
    }
}
    };
}

/// Implements [`DeliveryStore`](crate::DeliveryStore) for a wrapper by forwarding to the
/// store in its field `$field` (test doubles that change only catalog writes).
#[macro_export]
macro_rules! forward_delivery_store {
    ($wrapper:ty, $field:tt) => {
        #[::async_trait::async_trait]
        impl $crate::DeliveryStore for $wrapper {
            async fn accept_deliveries(
                &self,
                deliveries: &[$crate::NewDelivery],
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<Vec<$crate::Accepted>> {
                $crate::DeliveryStore::accept_deliveries(&self.$field, deliveries, audit).await
            }
            async fn deliveries_after(
                &self,
                after: i64,
                limit: usize,
            ) -> $crate::Result<Vec<$crate::StoredDelivery>> {
                $crate::DeliveryStore::deliveries_after(&self.$field, after, limit).await
            }
            async fn delivery(
                &self,
                source: &str,
                delivery_id: &str,
            ) -> $crate::Result<Option<$crate::StoredDelivery>> {
                $crate::DeliveryStore::delivery(&self.$field, source, delivery_id).await
            }
            async fn deliveries_of(
                &self,
                source: &str,
                after: i64,
                limit: usize,
            ) -> $crate::Result<Vec<$crate::StoredDelivery>> {
                $crate::DeliveryStore::deliveries_of(&self.$field, source, after, limit).await
            }
            async fn ledger_cursor(&self) -> $crate::Result<i64> {
                $crate::DeliveryStore::ledger_cursor(&self.$field).await
            }
            async fn commit_ledger(
                &self,
                rows: &[$crate::LedgerRow],
                cursor: i64,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<()> {
                $crate::DeliveryStore::commit_ledger(&self.$field, rows, cursor, audit).await
            }
            async fn visit_ledger(
                &self,
                visit: &mut (dyn FnMut($crate::LedgerRow) + Send),
            ) -> $crate::Result<()> {
                $crate::DeliveryStore::visit_ledger(&self.$field, visit).await
            }
            async fn reset_ledger(
                &self,
                audit: &[$crate::audit::AuditEvent],
            ) -> $crate::Result<u64> {
                $crate::DeliveryStore::reset_ledger(&self.$field, audit).await
            }
            async fn delivery_stats(&self) -> $crate::Result<$crate::DeliveryStats> {
                $crate::DeliveryStore::delivery_stats(&self.$field).await
            }
            async fn expire_deliveries(
                &self,
                retention: &$crate::DeliveryRetention,
            ) -> $crate::Result<u64> {
                $crate::DeliveryStore::expire_deliveries(&self.$field, retention).await
            }
        }
    };
}
