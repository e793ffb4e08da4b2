import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Computes the canonical-form signing vectors of testdata/signing/canonical-vectors.json
 * from testdata/signing/inputs.json with Jackson, the way Huawei's SaaS sample project
 * verifies signatures (IsvProduceAPI): the body is read into a map, put in a TreeMap
 * (String.compareTo: UTF-16 order), null values are removed, and the map is written
 * with a default ObjectMapper. See README.md for how to run it.
 */
public class CanonicalVectors {
    static final String KEY = "TestAccessKey-Canonical-01";
    static final String NONCE = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
    static final String TIMESTAMP = "1680508066618";

    // Trailing content is refused (the sample's Spring reader would ignore it; the
    // Go implementation refuses a body its decoder refuses too).
    static final ObjectMapper MAPPER = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** The basic interfaces: Map<String,String>, exactly as the sample reads them. */
    static String basic(String body) throws Exception {
        Map<String, String> temp;
        try {
            temp = MAPPER.readValue(body, new TypeReference<Map<String, String>>() {});
        } catch (MismatchedInputException e) {
            if (!body.trim().startsWith("{")) {
                throw e;
            }
            // A nested value: the sample cannot read such a body. Scalars are read as
            // the sample reads them, nested values as untyped Jackson values.
            return basicNested(body);
        }
        Map<String, Object> sortedMap = new TreeMap<>(temp);
        sortedMap.entrySet().removeIf(entry -> Objects.isNull(entry.getValue()));
        return new ObjectMapper().writeValueAsString(sortedMap);
    }

    static String basicNested(String body) throws Exception {
        Map<String, Object> temp = new LinkedHashMap<>();
        try (JsonParser p = MAPPER.getFactory().createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IllegalArgumentException("not an object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.getCurrentName();
                JsonToken t = p.nextToken();
                if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
                    temp.put(name, new ObjectMapper().readValue(p, Object.class));
                } else {
                    temp.put(name, p.getValueAsString());
                }
            }
            if (p.nextToken() != null) {
                throw new IllegalArgumentException("trailing content");
            }
        }
        Map<String, Object> sortedMap = new TreeMap<>(temp);
        sortedMap.entrySet().removeIf(entry -> Objects.isNull(entry.getValue()));
        return new ObjectMapper().writeValueAsString(sortedMap);
    }

    /** The Kit interfaces: Map<String,Object>, as the sample reads them. */
    static String kit(String body) throws Exception {
        Map<String, Object> temp = MAPPER.readValue(body, new TypeReference<Map<String, Object>>() {});
        Map<String, Object> sortedMap = new TreeMap<>(temp);
        sortedMap.entrySet().removeIf(entry -> Objects.isNull(entry.getValue()));
        return new ObjectMapper().writeValueAsString(sortedMap);
    }

    static byte[] hmac(String key, byte[] msg) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        return mac.doFinal(msg);
    }

    static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(String.format("%02x", x));
        }
        return sb.toString();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** V2 query signature: HMAC(key, key + nonce + timestamp + inner(payload)). */
    static String v2(byte[] payload, boolean plainSha256) throws Exception {
        String inner = plainSha256 ? hex(MessageDigest.getInstance("SHA-256").digest(payload)) : hex(hmac(KEY, payload));
        return hex(hmac(KEY, utf8(KEY + NONCE + TIMESTAMP + inner))).toUpperCase();
    }

    /** Kit x-sign, documented form: HMAC(key, key + nonce + timestamp + payload). */
    static String kitSign(byte[] payload) throws Exception {
        byte[] head = utf8(KEY + NONCE + TIMESTAMP);
        byte[] msg = new byte[head.length + payload.length];
        System.arraycopy(head, 0, msg, 0, head.length);
        System.arraycopy(payload, 0, msg, head.length, payload.length);
        return hex(hmac(KEY, msg)).toUpperCase();
    }

    public static void main(String[] args) throws Exception {
        JsonNode in = new ObjectMapper().readTree(new File(args[0]));
        ObjectMapper out = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode doc = out.createObjectNode();
        doc.put("about", "Canonical-form signing vectors computed by CanonicalVectors.java (Java "
                + System.getProperty("java.version") + ", Jackson " + com.fasterxml.jackson.databind.cfg.PackageVersion.VERSION
                + ") from inputs.json; see README.md.");
        doc.put("accessKey", KEY);
        doc.put("nonce", NONCE);
        doc.put("timestamp", TIMESTAMP);
        ArrayNode vectors = doc.putArray("vectors");
        for (JsonNode v : in.get("inputs")) {
            String form = v.get("form").asText();
            String body = v.get("body").asText();
            byte[] raw = utf8(body);
            ObjectNode o = vectors.addObject();
            o.put("name", v.get("name").asText());
            o.put("form", form);
            o.put("body", body);
            String canonical = null;
            try {
                canonical = form.equals("basic") ? basic(body) : kit(body);
            } catch (Exception e) {
                o.put("refused", e.getClass().getSimpleName());
            }
            if (canonical != null) {
                o.put("canonical", canonical);
            } else {
                o.putNull("canonical");
            }
            ObjectNode sigs = o.putObject("signatures");
            ObjectNode hashed = form.equals("kit") ? o.putObject("kitHashedSignatures") : null;
            for (String payloadForm : new String[] {"raw", "canonical"}) {
                if (payloadForm.equals("canonical") && canonical == null) {
                    continue;
                }
                byte[] payload = payloadForm.equals("raw") ? raw : utf8(canonical);
                if (form.equals("basic")) {
                    sigs.put(payloadForm + "/hmac-sha256", v2(payload, false));
                    sigs.put(payloadForm + "/sha256", v2(payload, true));
                } else {
                    sigs.put(payloadForm + "/none", kitSign(payload));
                    hashed.put(payloadForm + "/hmac-sha256", v2(payload, false));
                    hashed.put(payloadForm + "/sha256", v2(payload, true));
                }
            }
        }
        out.writeValue(new File(args[1]), doc);
    }
}
