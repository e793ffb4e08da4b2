-- Core tables of the production interface. Every idempotency rule of the protocol is
-- a PRIMARY or UNIQUE key here; the code never checks-then-inserts.
-- Tables default to utf8mb4_bin so that identifiers compare byte for byte
-- ("CS1" and "cs1" are different orders).

-- +goose Up
CREATE TABLE instances (
  instance_id         VARCHAR(64)  NOT NULL,
  order_id            VARCHAR(64)  NOT NULL,
  order_line_id       VARCHAR(64)  NOT NULL,
  -- Set only for pay-per-use instances, whose idempotency key is (orderId, productId).
  ondemand_product_id VARCHAR(64)  NULL,
  business_id         VARCHAR(64)  NOT NULL,
  product_id          VARCHAR(64)  NULL,
  test_flag           TINYINT      NOT NULL DEFAULT 0,
  state               VARCHAR(16)  NOT NULL,
  status              VARCHAR(16)  NOT NULL,
  fail_code           VARCHAR(6)   NULL,
  fail_reason         VARCHAR(255) NULL,
  app_info            TEXT         NULL,
  expire_time         DATETIME(3)  NULL,
  version             INT          NOT NULL DEFAULT 0,
  created_at          DATETIME(3)  NOT NULL,
  updated_at          DATETIME(3)  NOT NULL,
  released_at         DATETIME(3)  NULL,
  PRIMARY KEY (instance_id),
  UNIQUE KEY uk_instances_order_line (order_id, order_line_id),
  UNIQUE KEY uk_instances_ondemand (order_id, ondemand_product_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Orders applied to an existing instance (renewals, cancellations, upgrades). The
-- key makes each (kind, order line) apply exactly once.
CREATE TABLE instance_orders (
  kind          VARCHAR(48)  NOT NULL,
  order_id      VARCHAR(64)  NOT NULL,
  order_line_id VARCHAR(64)  NOT NULL,
  instance_id   VARCHAR(64)  NOT NULL,
  detail        TEXT         NULL,
  created_at    DATETIME(3)  NOT NULL,
  PRIMARY KEY (kind, order_id, order_line_id),
  KEY ix_instance_orders_instance (instance_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Nonces of verified requests; an exact replay hits the primary key.
CREATE TABLE nonces (
  scope      VARCHAR(16)  NOT NULL,
  nonce      VARCHAR(128) NOT NULL,
  expires_at DATETIME(3)  NOT NULL,
  PRIMARY KEY (scope, nonce),
  KEY ix_nonces_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The outbox. job_key is the idempotency key of the side effect.
CREATE TABLE jobs (
  id          BIGINT        NOT NULL AUTO_INCREMENT,
  job_key     VARCHAR(191)  NOT NULL,
  kind        VARCHAR(32)   NOT NULL,
  instance_id VARCHAR(64)   NULL,
  payload     TEXT          NULL,
  state       VARCHAR(16)   NOT NULL,
  attempts    INT           NOT NULL DEFAULT 0,
  next_run_at DATETIME(3)   NOT NULL,
  lease_owner VARCHAR(64)   NULL,
  lease_until DATETIME(3)   NULL,
  last_error  VARCHAR(1024) NULL,
  created_at  DATETIME(3)   NOT NULL,
  updated_at  DATETIME(3)   NOT NULL,
  done_at     DATETIME(3)   NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_jobs_key (job_key),
  KEY ix_jobs_due (state, next_run_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE jobs;
DROP TABLE nonces;
DROP TABLE instance_orders;
DROP TABLE instances;
