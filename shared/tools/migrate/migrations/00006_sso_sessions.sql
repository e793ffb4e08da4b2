-- Unified-login sessions kept server-side, so that a session can be ended before
-- its cookie expires: by logout, or because authSync revoked, disabled or deleted
-- its user, or tenantSync deleted its tenant. The sealed session cookie carries a
-- random session ID; only its SHA-256 is stored, so a copy of this table opens no
-- session. A session is valid while its row is not ended nor expired and its Kit
-- user (authorised, enabled) and tenant exist and are older than the session.

-- +goose Up
CREATE TABLE sso_sessions (
  id_hash     CHAR(64)    NOT NULL,
  instance_id VARCHAR(64) NOT NULL,
  tenant_id   VARCHAR(64) NOT NULL,
  app_id      VARCHAR(64) NOT NULL,
  user_name   VARCHAR(64) NOT NULL,
  created_at  DATETIME(3) NOT NULL,
  expires_at  DATETIME(3) NOT NULL,
  ended_at    DATETIME(3) NULL,
  end_reason  VARCHAR(16) NOT NULL DEFAULT '',
  PRIMARY KEY (id_hash),
  KEY ix_sso_sessions_expires (expires_at),
  -- authSync and tenantSync end the sessions of the users they revoke or delete.
  KEY ix_sso_sessions_user (instance_id, tenant_id, app_id, user_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- +goose Down
DROP TABLE sso_sessions;
