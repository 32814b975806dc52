package io.pgsplit.localpg;

/** How PostgreSQL stores a role's password (the {@code password_encryption} setting at creation time). */
public enum PasswordType {
    /** {@code SCRAM-SHA-256$...}: the PostgreSQL 14+ default. */
    SCRAM("scram-sha-256"),
    /** {@code md5...}: legacy, but still what many production roles have. */
    MD5("md5");

    private final String passwordEncryption;

    PasswordType(String passwordEncryption) {
        this.passwordEncryption = passwordEncryption;
    }

    /** Value for {@code SET password_encryption}. */
    public String passwordEncryption() {
        return passwordEncryption;
    }
}
