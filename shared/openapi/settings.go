package openapi

import (
	"time"

	"github.com/kgseller/kgseller/shared/config"
)

// Load builds the open-API client from HUAWEICLOUD_SDK_AK/SK, KG_MKT_REGION,
// KG_MKT_ENDPOINT and KG_MKT_TIMEOUT. Without the keys it returns nil, and records
// them as missing when required.
func Load(l *config.Loader, required bool) *Client {
	ak, sk := l.String(config.CloudAK, ""), l.String(config.CloudSK, "")
	if ak == "" || sk == "" {
		if required {
			l.Required(config.CloudAK)
			l.Required(config.CloudSK)
		}
		return nil
	}
	c, err := New(Options{
		Region: l.String(config.MktRegion, "cn"), Endpoint: l.String(config.MktEndpoint, ""), AK: ak, SK: sk,
		Timeout: l.Duration(config.MktTimeout, 10*time.Second),
	})
	if err != nil {
		l.Invalid(config.MktRegion+"/"+config.MktEndpoint, "are not usable: "+err.Error())
		return nil
	}
	return c
}

// LoadQueryOrder is the Query Order client of the jobs that query orders: nil when
// KG_QUERY_ORDERS=false (provision without querying), else Load's, required.
func LoadQueryOrder(l *config.Loader) *Client {
	if !l.Bool(config.QueryOrders, true) {
		return nil
	}
	return Load(l, true)
}
