//! Telegraf: agent configurations and the plugin catalogue the UI offers,
//! and Prometheus scraper targets with the scraping that writes what they
//! expose into their buckets.

pub(crate) mod configs;
pub(crate) mod plugins;
pub(crate) mod scrapers;
pub(crate) mod scraping;

use axum::routing::{MethodRouter, get};

use crate::state::AppState;
use crate::tenancy::{labels, members};
use configs::Telegrafs;
use scrapers::Scrapers;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    let mut out: Vec<(String, MethodRouter<AppState>)> = vec![
        ("/api/v2/scrapers".into(), get(scrapers::list_scrapers).post(scrapers::create_scraper)),
        (
            "/api/v2/scrapers/{id}".into(),
            get(scrapers::get_scraper).patch(scrapers::patch_scraper).delete(scrapers::delete_scraper),
        ),
    ];
    out.extend(labels::routes_on::<Scrapers>("/api/v2/scrapers/{id}"));
    out.extend(members::routes_on::<Scrapers>("/api/v2/scrapers/{id}"));
    out.extend([
        ("/api/v2/telegraf/plugins".into(), get(configs::plugins)),
        ("/api/v2/telegrafs".into(), get(configs::list_telegrafs).post(configs::create_telegraf)),
        (
            "/api/v2/telegrafs/{id}".into(),
            get(configs::get_telegraf).put(configs::put_telegraf).delete(configs::delete_telegraf),
        ),
    ]);
    out.extend(labels::routes_on::<Telegrafs>("/api/v2/telegrafs/{id}"));
    out.extend(members::routes_on::<Telegrafs>("/api/v2/telegrafs/{id}"));
    out
}
