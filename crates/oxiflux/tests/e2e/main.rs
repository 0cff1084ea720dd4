//! End-to-end tests: the real `oxiflux` binary, real HTTP, a real SQLite file.

mod server;

mod alerts;
mod authz;
mod backup;
mod calls_out;
mod config;
mod conformance;
mod contract;
mod documents;
mod durability;
mod influx1;
mod influxql;
mod limits;
mod openapi;
mod python_client;
mod query;
mod query_requests;
mod replication;
mod schema;
mod sessions;
mod setup;
mod system;
mod tasks;
mod templates;
mod tenancy;
mod upgrade;
mod write;
