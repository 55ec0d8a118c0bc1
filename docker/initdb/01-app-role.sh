#!/bin/sh
# First start of the compose database: the application's own role, not a superuser, owns the
# database, so PostgreSQL's row-level security applies to it (docs/deployment.md).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<SQL
CREATE ROLE qunyun LOGIN PASSWORD '${QUNYUN_DB_PASSWORD:-qunyun}' NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
CREATE DATABASE qunyun OWNER qunyun;
SQL
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname qunyun -c "ALTER SCHEMA public OWNER TO qunyun;"
