-- Joint-operation (联营) Kit data pushed by tenantSync, applicationSync, authSync,
-- singleOrgSync and allOrgSync, read by the unified login (SSO). Each table's
-- PRIMARY KEY is the protocol's idempotency key (instance, tenant[, app][, orgCode |
-- userName]): a repeated add hits the key and updates the row in place, so no
-- second row can ever exist. instance_id is '' for credentials requested from the
-- Seller Console, which carry no instance.

-- +goose Up
CREATE TABLE kit_tenants (
  instance_id VARCHAR(64)  NOT NULL,
  tenant_id   VARCHAR(64)  NOT NULL,
  order_id    VARCHAR(64)  NOT NULL DEFAULT '',
  tenant_code VARCHAR(64)  NOT NULL,
  name        VARCHAR(255) NOT NULL,
  domain_name VARCHAR(255) NOT NULL,
  test_flag   TINYINT      NOT NULL DEFAULT 0,
  sync_time   VARCHAR(32)  NOT NULL DEFAULT '',
  created_at  DATETIME(3)  NOT NULL,
  updated_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (instance_id, tenant_id),
  KEY ix_kit_tenants_tenant (tenant_id),
  KEY ix_kit_tenants_code (tenant_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- client_secret holds the decrypted secret sealed with KG_DATA_KEY (secretbox),
-- bound to its (instance, tenant, app).
CREATE TABLE kit_applications (
  instance_id   VARCHAR(64) NOT NULL,
  tenant_id     VARCHAR(64) NOT NULL,
  app_id        VARCHAR(64) NOT NULL,
  client_id     VARCHAR(64) NOT NULL,
  client_secret TEXT        NOT NULL,
  test_flag     TINYINT     NOT NULL DEFAULT 0,
  sync_time     VARCHAR(32) NOT NULL DEFAULT '',
  created_at    DATETIME(3) NOT NULL,
  updated_at    DATETIME(3) NOT NULL,
  PRIMARY KEY (instance_id, tenant_id, app_id),
  KEY ix_kit_applications_tenant_app (tenant_id, app_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- authorized = 0 after authSync flag 3 (authorisation revoked); enabled mirrors the
-- user's "enable" field. Only users with both set may sign in.
CREATE TABLE kit_users (
  instance_id   VARCHAR(64)  NOT NULL,
  tenant_id     VARCHAR(64)  NOT NULL,
  app_id        VARCHAR(64)  NOT NULL,
  user_name     VARCHAR(64)  NOT NULL,
  name          VARCHAR(64)  NOT NULL DEFAULT '',
  org_code      VARCHAR(64)  NOT NULL DEFAULT '',
  position      VARCHAR(64)  NOT NULL DEFAULT '',
  employee_code VARCHAR(64)  NOT NULL DEFAULT '',
  employee_type INT          NULL,
  role          VARCHAR(32)  NOT NULL DEFAULT '',
  enabled       TINYINT      NOT NULL DEFAULT 1,
  authorized    TINYINT      NOT NULL DEFAULT 1,
  mobile        VARCHAR(32)  NOT NULL DEFAULT '',
  email         VARCHAR(128) NOT NULL DEFAULT '',
  work_place    VARCHAR(256) NOT NULL DEFAULT '',
  entry_date    VARCHAR(20)  NOT NULL DEFAULT '',
  test_flag     TINYINT      NOT NULL DEFAULT 0,
  sync_time     VARCHAR(32)  NOT NULL DEFAULT '',
  created_at    DATETIME(3)  NOT NULL,
  updated_at    DATETIME(3)  NOT NULL,
  PRIMARY KEY (instance_id, tenant_id, app_id, user_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE kit_orgs (
  instance_id VARCHAR(64)  NOT NULL,
  tenant_id   VARCHAR(64)  NOT NULL,
  org_code    VARCHAR(64)  NOT NULL,
  org_name    VARCHAR(128) NOT NULL,
  parent_code VARCHAR(64)  NOT NULL DEFAULT '',
  test_flag   TINYINT      NOT NULL DEFAULT 0,
  sync_time   VARCHAR(32)  NOT NULL DEFAULT '',
  created_at  DATETIME(3)  NOT NULL,
  updated_at  DATETIME(3)  NOT NULL,
  PRIMARY KEY (instance_id, tenant_id, org_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE kit_orgs;
DROP TABLE kit_users;
DROP TABLE kit_applications;
DROP TABLE kit_tenants;
