package io.pgsplit.pool;

import io.pgsplit.auth.AuthFailedException;
import io.pgsplit.auth.Md5Password;
import io.pgsplit.auth.ScramClientExchange;
import io.pgsplit.protocol.SqlState;

/**
 * The client side of the password exchanges pgsplit does when it logs in to a server, over the
 * auth package; failures become {@link PoolException}s the login turns into a clear message.
 */
final class ServerAuth {
    static final String SCRAM_MECHANISM = ScramClientExchange.MECHANISM;

    private ServerAuth() {
    }

    /** One SCRAM-SHA-256 exchange (the SASL framing is {@link ServerLogin}'s). */
    interface Scram {
        byte[] clientFirst();

        byte[] clientFinal(byte[] serverFirst) throws PoolException;

        void verifyServerFinal(byte[] serverFinal) throws PoolException;
    }

    static String md5(String user, String passwordOrStoredMd5, byte[] salt) throws PoolException {
        if (salt.length != 4) {
            throw new PoolException(SqlState.PROTOCOL_VIOLATION, "MD5 salt of " + salt.length + " bytes", null);
        }
        return Md5Password.response(user, passwordOrStoredMd5, salt);
    }

    static Scram scram(String password) {
        return wrap(new ScramClientExchange(password));
    }

    /** SCRAM pass-through: the keys of a client that logged in as this user (issue 15). */
    static Scram scram(io.pgsplit.auth.ScramKeys keys) {
        return wrap(new ScramClientExchange(keys));
    }

    private static Scram wrap(ScramClientExchange exchange) {
        return new Scram() {
            @Override
            public byte[] clientFirst() {
                return exchange.clientFirst();
            }

            @Override
            public byte[] clientFinal(byte[] serverFirst) throws PoolException {
                try {
                    return exchange.clientFinal(serverFirst);
                } catch (AuthFailedException e) {
                    throw new PoolException(SqlState.INVALID_PASSWORD, "SCRAM: " + e.getMessage(), e);
                }
            }

            @Override
            public void verifyServerFinal(byte[] serverFinal) throws PoolException {
                try {
                    exchange.verifyServerFinal(serverFinal);
                } catch (AuthFailedException e) {
                    throw new PoolException(SqlState.INVALID_PASSWORD, "SCRAM: " + e.getMessage(), e);
                }
            }
        };
    }
}
