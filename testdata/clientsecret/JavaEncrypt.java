import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

import javax.crypto.Cipher;

/**
 * Encrypts a clientSecret the way a Java marketplace most plausibly does: the JDK's
 * "RSA/ECB/OAEPWithSHA-256AndMGF1Padding", whose default parameters (SunJCE) use
 * SHA-256 for OAEP but SHA-1 for MGF1. Usage: java JavaEncrypt.java PUBLIC.pem TEXT
 */
public class JavaEncrypt {
    public static void main(String[] args) throws Exception {
        String pem = Files.readString(Path.of(args[0]))
                .replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        PublicKey pub = KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(pem)));
        Cipher c = Cipher.getInstance("RSA/ECB/OAEPWithSHA-256AndMGF1Padding");
        c.init(Cipher.ENCRYPT_MODE, pub);
        System.out.print(Base64.getEncoder().encodeToString(c.doFinal(args[1].getBytes(StandardCharsets.UTF_8))));
    }
}
