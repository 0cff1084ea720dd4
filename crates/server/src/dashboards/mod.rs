//! Dashboards (their cells and each cell's view) and the variables their
//! queries use, stored as documents, with labels, members and owners.

pub(crate) mod dashboard;
pub(crate) mod variables;

use axum::routing::{MethodRouter, get, patch, post};

use crate::state::AppState;
use crate::tenancy::{labels, members};
use dashboard::Dashboards;
use variables::Variables;

/// This area's routes, in the order of `oss.yml`.
pub(crate) fn routes() -> Vec<(String, MethodRouter<AppState>)> {
    let base = "/api/v2/dashboards/{id}";
    let mut out: Vec<(String, MethodRouter<AppState>)> = vec![
        ("/api/v2/dashboards".into(), get(dashboard::list).post(dashboard::create)),
        (base.into(), get(dashboard::get).patch(dashboard::patch).delete(dashboard::delete)),
        (format!("{base}/cells"), post(dashboard::add_cell).put(dashboard::replace_all_cells)),
        (format!("{base}/cells/{{cell}}"), patch(dashboard::patch_cell).delete(dashboard::delete_cell)),
        (format!("{base}/cells/{{cell}}/view"), get(dashboard::get_view).patch(dashboard::patch_view)),
    ];
    out.extend(labels::routes_on::<Dashboards>(base));
    out.extend(members::routes_on::<Dashboards>(base));
    out.extend([
        ("/api/v2/variables".into(), get(variables::list).post(variables::create)),
        (
            "/api/v2/variables/{id}".into(),
            get(variables::get).patch(variables::patch).put(variables::put).delete(variables::delete),
        ),
    ]);
    out.extend(labels::routes_on::<Variables>("/api/v2/variables/{id}"));
    out
}
