-- Provisioned credentials and pay-per-use usage.

-- +goose Up
-- The provisioned password, sealed with the data key (shared/secretbox); app_info
-- never holds it.
ALTER TABLE instances ADD COLUMN app_secret TEXT NULL;

-- Usage reported by the seller's application, returned by queryInstance as
-- usageInfo. One row per instance and related (pay-per-use) instance; a report
-- older than the stored one does not overwrite it.
CREATE TABLE instance_usage (
  instance_id         VARCHAR(64)   NOT NULL,
  related_instance_id VARCHAR(64)   NOT NULL DEFAULT '',
  usage_value         DECIMAL(12,4) NOT NULL,
  statistical_time    DATETIME(3)   NOT NULL,
  dashboard_url       VARCHAR(512)  NULL,
  updated_at          DATETIME(3)   NOT NULL,
  PRIMARY KEY (instance_id, related_instance_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE instance_usage;
ALTER TABLE instances DROP COLUMN app_secret;
