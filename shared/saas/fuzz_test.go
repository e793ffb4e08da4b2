package saas

import (
	"errors"
	"testing"

	"github.com/kgseller/kgseller/shared/marketplace"
)

// FuzzDecode checks the request decoder never panics and rejects anything it does
// not accept with a 000002 error.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		`{"activity":"newInstance","businessId":"b","orderId":"o","orderLineId":"l","testFlag":"1"}`,
		`{"activity":"queryInstance","instanceId":"a,b, c"}`,
		`{"activity":"refreshInstance","expireTime":"20221124023618256","instanceId":"i","orderId":"o","orderLineId":"l","scene":"RENEWAL"}`,
		`{"activity":"updateInstanceStatus","instanceId":"i","status":"FREEZE","testFlag":1}`,
		`{"activity":"releaseInstance","instanceId":"i"}`,
		`{"activity":"upgradeInstance","instanceId":"i","orderId":"o","orderLineId":"l"}`,
		`{"activity":"changeInstanceCheck","instanceId":"i","productInfo":{"productId":"p","skuCode":"s","productName":"n","linearValue":"3"}}`,
		`{"activity":`, "\xff", `[]`, `{"activity":"newInstance","orderId":{"$gt":""}}`,
	} {
		f.Add([]byte(seed))
	}
	s := &Service{}
	f.Fuzz(func(t *testing.T, body []byte) {
		op, err := s.Decode(body)
		if err != nil {
			var me *marketplace.Error
			if !errors.As(err, &me) || me.Code != marketplace.BadRequest {
				t.Fatalf("decode error %v is not a 000002 error", err)
			}
			return
		}
		if op == nil || op.Name() == "" {
			t.Fatalf("accepted %q without an operation", body)
		}
	})
}
