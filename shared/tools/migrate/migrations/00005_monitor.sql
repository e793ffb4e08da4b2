-- The interface monitor (interface-monitor): the state of each check and its
-- recent runs. Both stay small: one row per check, and at most a configured
-- number of runs per check (MONITOR_RUNS_KEPT; each save deletes the older ones in
-- the same transaction).

-- +goose Up
-- failures counts the current streak of failed runs; incident is 1 from the alert
-- until the recovery; unsent names the alert or recovery not yet delivered to any
-- channel (retried on the next run); seq numbers the check's runs.
CREATE TABLE monitor_checks (
  check_name  VARCHAR(64)   NOT NULL,
  failures    INT           NOT NULL DEFAULT 0,
  incident    TINYINT       NOT NULL DEFAULT 0,
  unsent      VARCHAR(16)   NOT NULL DEFAULT '',
  seq         BIGINT        NOT NULL DEFAULT 0,
  since       DATETIME(3)   NULL,
  last_ok_at  DATETIME(3)   NULL,
  last_run_at DATETIME(3)   NOT NULL,
  last_detail VARCHAR(1024) NOT NULL DEFAULT '',
  PRIMARY KEY (check_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE monitor_runs (
  check_name VARCHAR(64)   NOT NULL,
  seq        BIGINT        NOT NULL,
  run_at     DATETIME(3)   NOT NULL,
  ok         TINYINT       NOT NULL,
  latency_ms INT           NOT NULL DEFAULT 0,
  detail     VARCHAR(1024) NOT NULL DEFAULT '',
  PRIMARY KEY (check_name, seq),
  KEY ix_monitor_runs_time (run_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE monitor_runs;
DROP TABLE monitor_checks;
