package io.pgsplit.route.rules;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** An IPv4 or IPv6 network ({@code 10.0.0.0/8}, {@code fd00::/8}, or one address), compiled to a byte mask. */
final class Cidr {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]*:[0-9a-fA-F:.]*");

    private final String text;
    private final byte[] network;
    private final byte[] mask;

    private Cidr(String text, byte[] network, byte[] mask) {
        this.text = text;
        this.network = network;
        this.mask = mask;
    }

    /** Parses {@code text}; throws IllegalArgumentException with a message fit for the user. */
    static Cidr parse(String text) {
        String t = text.trim();
        int slash = t.indexOf('/');
        String address = slash < 0 ? t : t.substring(0, slash);
        boolean v4 = IPV4.matcher(address).matches();
        if (!v4 && !IPV6.matcher(address).matches()) {
            throw new IllegalArgumentException("\"" + text + "\" is not an IP address or network (e.g. 10.0.0.0/8, "
                    + "192.168.1.7, fd00::/8); host names are not allowed");
        }
        byte[] bytes;
        try {
            // only literals reach here (checked above), so this never does a DNS lookup
            bytes = InetAddress.getByName(address).getAddress();
        } catch (UnknownHostException | RuntimeException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a valid IP address");
        }
        if (v4) {
            for (String part : address.split("\\.")) {
                if (Integer.parseInt(part) > 255) {
                    throw new IllegalArgumentException("\"" + text + "\" is not a valid IPv4 address (" + part
                            + " is over 255)");
                }
            }
        }
        int bits = bytes.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!p.matches("\\d{1,3}")) {
                throw new IllegalArgumentException("\"" + text + "\": the prefix length after / must be a number "
                        + "from 0 to " + bits);
            }
            prefix = Integer.parseInt(p);
            if (prefix > bits) {
                throw new IllegalArgumentException("\"" + text + "\": prefix length " + prefix + " is over " + bits
                        + " (the size of an " + (bits == 32 ? "IPv4" : "IPv6") + " address)");
            }
        }
        byte[] mask = new byte[bytes.length];
        for (int i = 0; i < mask.length; i++) {
            int b = Math.max(0, Math.min(8, prefix - 8 * i));
            mask[i] = (byte) (0xff << (8 - b));
        }
        byte[] network = new byte[bytes.length];
        for (int i = 0; i < network.length; i++) {
            network[i] = (byte) (bytes[i] & mask[i]);
        }
        return new Cidr(text, network, mask);
    }

    boolean contains(InetSocketAddress socket) {
        if (socket == null || socket.getAddress() == null) {
            return false;
        }
        byte[] a = socket.getAddress().getAddress();
        if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
            byte[] v4 = new byte[4];
            System.arraycopy(a, 12, v4, 0, 4);
            a = v4;
        }
        if (a.length != network.length) {
            return false;
        }
        for (int i = 0; i < a.length; i++) {
            if ((a[i] & mask[i]) != network[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }

    @Override
    public String toString() {
        return text;
    }
}
