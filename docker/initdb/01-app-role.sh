#!/bin/sh
# First start of the compose database: the two roles of docs/deployment.md ("Database roles").
# - qunyun: the application's role, not a superuser, no BYPASSRLS; it owns the database, so
#   PostgreSQL's row-level security applies to it (DATABASE_URL).
# - qunyun_system: BYPASSRLS, for the few jobs that span organizations (SYSTEM_DATABASE_URL);
#   a member of qunyun for the privileges on its tables.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE qunyun LOGIN PASSWORD '${QUNYUN_DB_PASSWORD:-qunyun}' NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
CREATE ROLE qunyun_system LOGIN PASSWORD '${QUNYUN_SYSTEM_DB_PASSWORD:-qunyun_system}' NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB;
GRANT qunyun TO qunyun_system;
CREATE DATABASE qunyun OWNER qunyun;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname qunyun -c "ALTER SCHEMA public OWNER TO qunyun;"
