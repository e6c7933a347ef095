//! Server functions behind `/admin/metrics`; the same service and rules as `GET /api/v1/sla/summary`.

use super::Summary;
use crate::error::AppError;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the metrics page shows: the 7-day and the 30-day summaries, taken at the same instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    pub week: Summary,
    pub month: Summary,
}

#[server(prefix = "/rpc", endpoint = "metrics_overview")]
pub async fn metrics_overview() -> Result<Overview, AppError> {
    let (s, user) = crate::accounts::server_fns::ssr::signed_in().await?;
    let now = crate::db::now();
    let week = super::service::summary(&s.db, &user, 7, now).await?;
    let month = super::service::summary(&s.db, &user, 30, now).await?;
    Ok(Overview { week, month })
}
