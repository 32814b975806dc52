package io.pgsplit.pool;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The client side of the password exchanges pgsplit does when it logs in to a server.
 * TEMPORARY: a minimal in-package implementation until the auth branch lands.
 */
final class ServerAuth {
    static final String SCRAM_MECHANISM = "SCRAM-SHA-256";

    private ServerAuth() {
    }

    interface Scram {
        byte[] clientFirst();

        byte[] clientFinal(byte[] serverFirst) throws PoolException;

        void verifyServerFinal(byte[] serverFinal) throws PoolException;
    }

    static String md5(String user, String password, byte[] salt) throws PoolException {
        String inner = password.startsWith("md5") && password.length() == 35 ? password.substring(3)
                : hex(digest("MD5", (password + user).getBytes(StandardCharsets.UTF_8)));
        byte[] in = inner.getBytes(StandardCharsets.US_ASCII);
        byte[] all = new byte[in.length + salt.length];
        System.arraycopy(in, 0, all, 0, in.length);
        System.arraycopy(salt, 0, all, in.length, salt.length);
        return "md5" + hex(digest("MD5", all));
    }

    static Scram scram(String password) {
        return new SimpleScram(password);
    }

    private static final class SimpleScram implements Scram {
        private final String password;
        private final String nonce;
        private String clientFirstBare;
        private byte[] serverSignature;

        SimpleScram(String password) {
            this.password = password;
            byte[] r = new byte[18];
            new SecureRandom().nextBytes(r);
            this.nonce = Base64.getEncoder().encodeToString(r);
        }

        @Override
        public byte[] clientFirst() {
            clientFirstBare = "n=,r=" + nonce;
            return ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public byte[] clientFinal(byte[] serverFirstBytes) throws PoolException {
            String serverFirst = new String(serverFirstBytes, StandardCharsets.UTF_8);
            Map<Character, String> attrs = attributes(serverFirst);
            String r = attrs.get('r');
            if (r == null || !r.startsWith(nonce) || attrs.get('s') == null || attrs.get('i') == null) {
                throw new PoolException("08P01", "invalid SCRAM server-first-message", null);
            }
            byte[] salt = Base64.getDecoder().decode(attrs.get('s'));
            int iterations = Integer.parseInt(attrs.get('i'));
            byte[] salted = hi(password.getBytes(StandardCharsets.UTF_8), salt, iterations);
            byte[] clientKey = hmac(salted, "Client Key");
            byte[] storedKey = digest("SHA-256", clientKey);
            String withoutProof = "c=biws,r=" + r;
            String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
            byte[] clientSignature = hmac(storedKey, authMessage);
            byte[] proof = new byte[clientKey.length];
            for (int i = 0; i < proof.length; i++) {
                proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
            }
            serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
            return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof)).getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public void verifyServerFinal(byte[] serverFinal) throws PoolException {
            String v = attributes(new String(serverFinal, StandardCharsets.UTF_8)).get('v');
            if (v == null || serverSignature == null
                    || !MessageDigest.isEqual(Base64.getDecoder().decode(v), serverSignature)) {
                throw new PoolException("28P01", "server's SCRAM signature does not match", null);
            }
        }

        private static Map<Character, String> attributes(String msg) {
            Map<Character, String> out = new HashMap<>();
            for (String part : msg.split(",")) {
                if (part.length() >= 2 && part.charAt(1) == '=') {
                    out.put(part.charAt(0), part.substring(2));
                }
            }
            return out;
        }

        private static byte[] hi(byte[] password, byte[] salt, int iterations) throws PoolException {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(password, "HmacSHA256"));
                mac.update(salt);
                mac.update(new byte[] {0, 0, 0, 1});
                byte[] u = mac.doFinal();
                byte[] result = u.clone();
                for (int i = 1; i < iterations; i++) {
                    u = mac.doFinal(u);
                    for (int j = 0; j < result.length; j++) {
                        result[j] ^= u[j];
                    }
                }
                return result;
            } catch (Exception e) {
                throw new PoolException("XX000", "SCRAM: " + e, e);
            }
        }

        private static byte[] hmac(byte[] key, String data) throws PoolException {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
                return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
            } catch (Exception e) {
                throw new PoolException("XX000", "SCRAM: " + e, e);
            }
        }
    }

    private static byte[] digest(String algorithm, byte[] data) {
        try {
            return MessageDigest.getInstance(algorithm).digest(data);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder(b.length * 2);
        for (byte x : b) {
            sb.append(Character.forDigit((x >> 4) & 0xF, 16)).append(Character.forDigit(x & 0xF, 16));
        }
        return sb.toString();
    }
}
