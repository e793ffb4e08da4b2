-- Online License products, license codes (授权码 2.0) and order notifications. As
-- elsewhere, each idempotency rule of the protocol is a PRIMARY or UNIQUE key.

-- +goose Up
-- One row per getLicenseAsync event: the same eventId (and deviceFingerprint) always
-- finds this row, never a new one. fingerprint_key is the hex SHA-256 of the
-- fingerprint ('' without one), because the fingerprint itself (up to 1024
-- characters) is too long for an index. document is the signed license, written
-- once and never replaced, so every retry uploads identical bytes.
CREATE TABLE licenses (
  id                 BIGINT       NOT NULL AUTO_INCREMENT,
  event_id           VARCHAR(64)  NOT NULL,
  fingerprint_key    CHAR(64)     NOT NULL DEFAULT '',
  device_fingerprint TEXT         NULL,
  instance_id        VARCHAR(64)  NOT NULL,
  effective_time     DATETIME(3)  NOT NULL,
  expire_time        DATETIME(3)  NULL,
  test_flag          TINYINT      NOT NULL DEFAULT 0,
  state              VARCHAR(16)  NOT NULL,
  document           MEDIUMTEXT   NULL,
  document_sha256    CHAR(64)     NULL,
  key_id             VARCHAR(32)  NULL,
  created_at         DATETIME(3)  NOT NULL,
  updated_at         DATETIME(3)  NOT NULL,
  uploaded_at        DATETIME(3)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uk_licenses_event (event_id, fingerprint_key),
  KEY ix_licenses_instance (instance_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- The successful upload of a license: at most one per license.
CREATE TABLE license_uploads (
  license_id  BIGINT       NOT NULL,
  event_id    VARCHAR(64)  NOT NULL,
  file_name   VARCHAR(255) NOT NULL,
  sha256      CHAR(64)     NOT NULL,
  answer_code VARCHAR(32)  NOT NULL DEFAULT '',
  uploaded_at DATETIME(3)  NOT NULL,
  PRIMARY KEY (license_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- Licenses issued per instance, kept only when a quota is configured. The row is
-- locked by the insert that counts a new license, so concurrent events of one
-- instance cannot exceed the quota together.
CREATE TABLE license_counts (
  instance_id VARCHAR(64) NOT NULL,
  issued      INT         NOT NULL,
  updated_at  DATETIME(3) NOT NULL,
  PRIMARY KEY (instance_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- License codes as the marketplace's lifecycle calls describe them. The marketplace
-- creates the codes and never announces them, so a code is recorded on the first
-- call that names it. A released code is kept and no longer changes.
CREATE TABLE license_codes (
  license_code          VARCHAR(64) NOT NULL,
  status                VARCHAR(16) NOT NULL,
  expire_time           DATETIME(3) NULL,
  product_id            VARCHAR(64) NULL,
  test_flag             TINYINT     NOT NULL DEFAULT 0,
  release_order_id      VARCHAR(64) NULL,
  release_order_line_id VARCHAR(64) NULL,
  created_at            DATETIME(3) NOT NULL,
  updated_at            DATETIME(3) NOT NULL,
  released_at           DATETIME(3) NULL,
  PRIMARY KEY (license_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- refreshLicenseCode orders: each (scene, order line) applies once, so a late retry
-- of an earlier renewal cannot undo a later one.
CREATE TABLE license_code_orders (
  scene         VARCHAR(64) NOT NULL,
  order_id      VARCHAR(64) NOT NULL,
  order_line_id VARCHAR(64) NOT NULL,
  license_code  VARCHAR(64) NOT NULL,
  expire_time   DATETIME(3) NOT NULL,
  product_id    VARCHAR(64) NULL,
  created_at    DATETIME(3) NOT NULL,
  PRIMARY KEY (scene, order_id, order_line_id),
  KEY ix_license_code_orders_code (license_code)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- orderNotify, every product type: one row per order line, however often it is
-- notified. state: PENDING until Query Order has been recorded (QUERIED), or
-- SKIPPED when the worker does not query orders.
CREATE TABLE order_notices (
  order_id      VARCHAR(64) NOT NULL,
  order_line_id VARCHAR(64) NOT NULL,
  test_flag     TINYINT     NOT NULL DEFAULT 0,
  state         VARCHAR(16) NOT NULL,
  created_at    DATETIME(3) NOT NULL,
  updated_at    DATETIME(3) NOT NULL,
  PRIMARY KEY (order_id, order_line_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- What Query Order answered for an order line (order notifications and the orders
-- behind licenses). order_json is the decoded answer, including the buyer's contact
-- details as the marketplace sends them.
CREATE TABLE order_details (
  order_id      VARCHAR(64)  NOT NULL,
  order_line_id VARCHAR(64)  NOT NULL,
  order_type    VARCHAR(32)  NOT NULL DEFAULT '',
  charging_mode VARCHAR(32)  NOT NULL DEFAULT '',
  period_type   VARCHAR(16)  NOT NULL DEFAULT '',
  period_number VARCHAR(16)  NOT NULL DEFAULT '',
  expire_time   DATETIME(3)  NULL,
  product_id    VARCHAR(64)  NOT NULL DEFAULT '',
  sku_code      VARCHAR(64)  NOT NULL DEFAULT '',
  product_name  VARCHAR(255) NOT NULL DEFAULT '',
  linear_value  VARCHAR(32)  NOT NULL DEFAULT '',
  customer_id   VARCHAR(64)  NOT NULL DEFAULT '',
  customer_name VARCHAR(255) NOT NULL DEFAULT '',
  order_json    MEDIUMTEXT   NULL,
  queried_at    DATETIME(3)  NOT NULL,
  PRIMARY KEY (order_id, order_line_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE order_details;
DROP TABLE order_notices;
DROP TABLE license_code_orders;
DROP TABLE license_codes;
DROP TABLE license_counts;
DROP TABLE license_uploads;
DROP TABLE licenses;
