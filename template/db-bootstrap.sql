-- Database bootstrap for kgseller on RDS for MySQL 8 or MariaDB 10.11: the
-- database, the functions' user (data only) and the migration user (schema).
-- Run it once, as the RDS administrator, before `go run ./scripts/migrate`:
--
--   export KG_DB_APP_PASSWORD="$(openssl rand -base64 24)"
--   export KG_DB_MIGRATE_PASSWORD="$(openssl rand -base64 24)"
--   envsubst '$KG_DB_APP_PASSWORD $KG_DB_MIGRATE_PASSWORD' < template/db-bootstrap.sql \
--     | mysql -h <rds-private-address> -P 3306 -u root -p
--
-- Then:
--   functions (encrypted variable DB_DSN):
--     kgseller_app:<KG_DB_APP_PASSWORD>@tcp(<rds-private-address>:3306)/kgseller
--   scripts/migrate (from a machine in the VPC):
--     DB_DSN='kgseller_migrate:<KG_DB_MIGRATE_PASSWORD>@tcp(<rds-private-address>:3306)/kgseller'
--
-- '%' accepts the users from any address RDS lets in; RDS is reachable only inside
-- the VPC (keep its security group to the functions' subnet). To pin the users to
-- the subnet, replace '%' with its pattern, e.g. '192.168.0.%'.

CREATE DATABASE IF NOT EXISTS `kgseller` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;

-- The functions: read and write rows; no DDL, nothing outside this database.
CREATE USER IF NOT EXISTS 'kgseller_app'@'%' IDENTIFIED BY '${KG_DB_APP_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON `kgseller`.* TO 'kgseller_app'@'%';

-- scripts/migrate (goose): schema changes on this database only.
CREATE USER IF NOT EXISTS 'kgseller_migrate'@'%' IDENTIFIED BY '${KG_DB_MIGRATE_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, DROP, INDEX, REFERENCES ON `kgseller`.* TO 'kgseller_migrate'@'%';
