package io.pgsplit.protocol;

/** A peer broke the protocol: the connection gets an 08P01 ErrorResponse (where allowed) and closes. */
public class ProtocolException extends RuntimeException {
    public ProtocolException(String message) {
        super(message);
    }
}
