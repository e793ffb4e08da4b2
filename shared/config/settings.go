package config

// The names of the settings functions read. Every package that reads a setting
// uses these names, so the list below is the one place that says which exist and
// which hold secrets; the log masking, the deploy tool's variable list and the
// README's tables follow it.
const (
	LogLevel = "LOG_LEVEL"

	DBDSN             = "DB_DSN"
	DBMaxOpen         = "DB_MAX_OPEN"
	DBMaxIdle         = "DB_MAX_IDLE"
	DBConnMaxLifetime = "DB_CONN_MAX_LIFETIME"
	DBConnMaxIdleTime = "DB_CONN_MAX_IDLE_TIME"

	// AccessKey is the access key of every interface type without its own
	// (AccessKey + "_" + the type, e.g. KG_ACCESS_KEY_BASIC; see KeyBasic…).
	AccessKey        = "KG_ACCESS_KEY"
	AccessKeyBase64  = "KG_ACCESS_KEY_BASE64"
	SignTolerance    = "KG_SIGN_TOLERANCE"
	SignFutureSkew   = "KG_SIGN_FUTURE_SKEW"
	KitHashedPayload = "KG_KIT_HASHED_PAYLOAD"
	MaxBodyBytes     = "KG_MAX_BODY_BYTES"
	RequestTimeout   = "KG_REQUEST_TIMEOUT"
	NoncePurgeEvery  = "KG_NONCE_PURGE_EVERY"
	QueryEncryptType = "KG_QUERY_ENCRYPT_TYPE"
	DataKey          = "KG_DATA_KEY"

	Provisioner               = "PROVISIONER"
	ProvisionFrontEndURL      = "PROVISION_FRONTEND_URL"
	ProvisionAdminURL         = "PROVISION_ADMIN_URL"
	ProvisionMemo             = "PROVISION_MEMO"
	ProvisionWebhookURL       = "PROVISION_WEBHOOK_URL"
	ProvisionWebhookSecret    = "PROVISION_WEBHOOK_SECRET"
	ProvisionWebhookAllowHTTP = "PROVISION_WEBHOOK_ALLOW_HTTP"

	CloudAK            = "HUAWEICLOUD_SDK_AK"
	CloudSK            = "HUAWEICLOUD_SDK_SK"
	CloudSecurityToken = "HUAWEICLOUD_SDK_SECURITY_TOKEN"
	CloudRegion        = "HUAWEICLOUD_REGION"
	CloudProjectID     = "HUAWEICLOUD_PROJECT_ID"
	// RuntimeProjectID is set by FunctionGraph itself.
	RuntimeProjectID = "RUNTIME_PROJECT_ID"
	CSMSEndpoint     = "CSMS_ENDPOINT"

	MktRegion   = "KG_MKT_REGION"
	MktEndpoint = "KG_MKT_ENDPOINT"
	MktTimeout  = "KG_MKT_TIMEOUT"
	QueryOrders = "KG_QUERY_ORDERS"

	FulfilMode           = "FULFIL_MODE"
	FulfilWorkerURN      = "FULFIL_WORKER_URN"
	FulfilWorkerEndpoint = "FULFIL_WORKER_ENDPOINT"
	FulfilMaxAttempts    = "FULFIL_MAX_ATTEMPTS"
	FulfilBaseDelay      = "FULFIL_BASE_DELAY"
	FulfilMaxDelay       = "FULFIL_MAX_DELAY"
	FulfilBatch          = "FULFIL_BATCH"
	FulfilLease          = "FULFIL_LEASE"
	// FaultExitAt is test-only: fulfil-worker exits at the listed job steps.
	FaultExitAt = "KG_FAULT_EXIT_AT"

	KitRSAPrivateKey = "KG_KIT_RSA_PRIVATE_KEY"

	SSOAppID        = "SSO_APP_ID"
	SSOAppURL       = "SSO_APP_URL"
	SSOLoginURL     = "SSO_LOGIN_URL"
	SSORedirectURI  = "SSO_REDIRECT_URI"
	SSOLogoutURL    = "SSO_LOGOUT_URL"
	SSOAllowedHosts = "SSO_ALLOWED_REDIRECT_HOSTS"
	SSOIdPHosts     = "SSO_IDP_HOSTS"
	SSOAllowHTTP    = "SSO_ALLOW_HTTP"
	SSORequireState = "SSO_REQUIRE_STATE"
	SSOSessionKey   = "SSO_SESSION_KEY"
	SSOSessionTTL   = "SSO_SESSION_TTL"
	SSOCookieDomain = "SSO_COOKIE_DOMAIN"
	SSOHTTPTimeout  = "SSO_HTTP_TIMEOUT"

	LicenseSigningKey  = "KG_LICENSE_SIGNING_KEY"
	LicenseFeatures    = "KG_LICENSE_FEATURES"
	LicenseQuota       = "KG_LICENSE_QUOTA"
	LicenseDeviceBound = "KG_LICENSE_DEVICE_BOUND"

	APIGSignatureKey         = "APIG_SIGNATURE_KEY"
	APIGSignatureSecret      = "APIG_SIGNATURE_SECRET"
	APIGSignatureSkew        = "APIG_SIGNATURE_SKEW"
	APIGAllowUnsignedPayload = "APIG_SIGNATURE_ALLOW_UNSIGNED_PAYLOAD"

	// The interface monitor (interface-monitor, docs/monitoring.md).
	MonitorName            = "MONITOR_NAME"
	MonitorSaaSURL         = "MONITOR_SAAS_URL"
	MonitorLicenseURL      = "MONITOR_LICENSE_URL"
	MonitorKitURL          = "MONITOR_KIT_URL"
	MonitorNotifyURL       = "MONITOR_NOTIFY_URL"
	MonitorProbeOrderID    = "MONITOR_PROBE_ORDER_ID"
	MonitorProbeBusinessID = "MONITOR_PROBE_BUSINESS_ID"
	MonitorTimeout         = "MONITOR_TIMEOUT"
	MonitorFailAfter       = "MONITOR_FAIL_AFTER"
	MonitorCertWarnDays    = "MONITOR_CERT_WARN_DAYS"
	MonitorJobAge          = "MONITOR_JOB_AGE"
	MonitorDeadJobsMax     = "MONITOR_DEAD_JOBS_MAX"
	MonitorProvisioningAge = "MONITOR_PROVISIONING_AGE"
	MonitorNoncesMax       = "MONITOR_NONCES_MAX"
	MonitorRunsKept        = "MONITOR_RUNS_KEPT"
	MonitorSMNTopicURN     = "MONITOR_SMN_TOPIC_URN"
	MonitorSMNEndpoint     = "MONITOR_SMN_ENDPOINT"
	MonitorWebhookURL      = "MONITOR_WEBHOOK_URL"
	MonitorWebhookFormat   = "MONITOR_WEBHOOK_FORMAT"
	MonitorWebhookSecret   = "MONITOR_WEBHOOK_SECRET"
	MonitorAllowHTTP       = "MONITOR_ALLOW_HTTP"
)

// Interface types that each have their own access key in the Seller Console.
const (
	KeyBasic   = "BASIC"   // SaaS basic interfaces
	KeyKit     = "KIT"     // joint-operation Kit sync
	KeyLicense = "LICENSE" // License and license-code interfaces
	KeyNotify  = "NOTIFY"  // generic interfaces (order notification)
)

// Previous is the suffix of the setting that holds the old value of a key or
// secret during a change (KG_ACCESS_KEY_BASIC_PREVIOUS, …).
const Previous = "_PREVIOUS"

// Setting describes one setting.
type Setting struct {
	Name string
	// Secret values are masked in logs and belong in encrypted variables (or
	// CSMS); their Previous variants are secret too.
	Secret bool
}

// Settings lists every setting a function reads.
var Settings = []Setting{
	{Name: LogLevel},
	{Name: DBDSN, Secret: true}, {Name: DBMaxOpen}, {Name: DBMaxIdle}, {Name: DBConnMaxLifetime}, {Name: DBConnMaxIdleTime},
	{Name: AccessKey, Secret: true},
	{Name: AccessKey + "_" + KeyBasic, Secret: true}, {Name: AccessKey + "_" + KeyKit, Secret: true},
	{Name: AccessKey + "_" + KeyLicense, Secret: true}, {Name: AccessKey + "_" + KeyNotify, Secret: true},
	{Name: AccessKeyBase64}, {Name: SignTolerance}, {Name: SignFutureSkew}, {Name: KitHashedPayload},
	{Name: MaxBodyBytes}, {Name: RequestTimeout}, {Name: NoncePurgeEvery}, {Name: QueryEncryptType},
	{Name: DataKey, Secret: true},
	{Name: Provisioner}, {Name: ProvisionFrontEndURL}, {Name: ProvisionAdminURL}, {Name: ProvisionMemo},
	{Name: ProvisionWebhookURL}, {Name: ProvisionWebhookSecret, Secret: true}, {Name: ProvisionWebhookAllowHTTP},
	{Name: CloudAK, Secret: true}, {Name: CloudSK, Secret: true}, {Name: CloudSecurityToken, Secret: true},
	{Name: CloudRegion}, {Name: CloudProjectID}, {Name: CSMSEndpoint},
	{Name: MktRegion}, {Name: MktEndpoint}, {Name: MktTimeout}, {Name: QueryOrders},
	{Name: FulfilMode}, {Name: FulfilWorkerURN}, {Name: FulfilWorkerEndpoint}, {Name: FulfilMaxAttempts},
	{Name: FulfilBaseDelay}, {Name: FulfilMaxDelay}, {Name: FulfilBatch}, {Name: FulfilLease}, {Name: FaultExitAt},
	{Name: KitRSAPrivateKey, Secret: true},
	{Name: SSOAppID}, {Name: SSOAppURL}, {Name: SSOLoginURL}, {Name: SSORedirectURI}, {Name: SSOLogoutURL},
	{Name: SSOAllowedHosts}, {Name: SSOIdPHosts}, {Name: SSOAllowHTTP}, {Name: SSORequireState},
	{Name: SSOSessionKey, Secret: true}, {Name: SSOSessionTTL}, {Name: SSOCookieDomain}, {Name: SSOHTTPTimeout},
	{Name: LicenseSigningKey, Secret: true}, {Name: LicenseFeatures}, {Name: LicenseQuota}, {Name: LicenseDeviceBound},
	{Name: APIGSignatureKey}, {Name: APIGSignatureSecret, Secret: true}, {Name: APIGSignatureSkew},
	{Name: APIGAllowUnsignedPayload},
	{Name: MonitorName}, {Name: MonitorSaaSURL}, {Name: MonitorLicenseURL}, {Name: MonitorKitURL}, {Name: MonitorNotifyURL},
	{Name: MonitorProbeOrderID}, {Name: MonitorProbeBusinessID}, {Name: MonitorTimeout}, {Name: MonitorFailAfter},
	{Name: MonitorCertWarnDays}, {Name: MonitorJobAge}, {Name: MonitorDeadJobsMax}, {Name: MonitorProvisioningAge},
	{Name: MonitorNoncesMax}, {Name: MonitorRunsKept}, {Name: MonitorSMNTopicURN}, {Name: MonitorSMNEndpoint},
	// The robot webhook URL carries the robot's token (key=, access_token=).
	{Name: MonitorWebhookURL, Secret: true}, {Name: MonitorWebhookFormat}, {Name: MonitorWebhookSecret, Secret: true},
	{Name: MonitorAllowHTTP},
}

// SecretNames returns the names of the secret settings, each followed by its
// Previous variant.
func SecretNames() []string {
	var out []string
	for _, s := range Settings {
		if s.Secret {
			out = append(out, s.Name, s.Name+Previous)
		}
	}
	return out
}
