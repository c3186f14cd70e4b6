package io.tomcatredis.session.store;

import io.tomcatredis.connection.LuaScript;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The Lua scripts of the session layout, each a resource file next to this class that documents
 * its KEYS, ARGV and reply. Every change of a session in Redis is one of these atomic steps.
 */
enum SessionScript {
    /** load.lua: a session unless the caller's copy is current; read-only. */
    LOAD("load.lua"),
    /** save.lua: a request's changes, the deadline and the TTLs. */
    SAVE("save.lua"),
    /** claim.lua: invalidation or expiry, won by exactly one caller. */
    CLAIM("claim.lua"),
    /** rename.lua: an id change within one slot. */
    RENAME("rename.lua"),
    /** export.lua and import.lua: an id change across Redis Cluster slots. */
    EXPORT("export.lua"),
    IMPORT("import.lua"),
    /** copy_export.lua and copy_import.lua: the same move field by field, when RESTORE refuses a payload. */
    COPY_EXPORT("copy_export.lua"),
    COPY_IMPORT("copy_import.lua"),
    /** retire.lua: the old id's session deleted after a move, only if unchanged since export.lua. */
    RETIRE("retire.lua"),
    /** data_write.lua: a write to a session-scoped structure, bound to the session. */
    DATA_WRITE("data_write.lua"),
    /** audit.lua: removes expiry index entries whose session hash no longer exists. */
    AUDIT("audit.lua"),
    /** due.lua: due entries of one expiry index, from one of the first windows of the due range. */
    DUE("due.lua"),
    /** extend.lua: keeps the keys of due sessions the sweep has not reached yet. */
    EXTEND("extend.lua"),
    /** principal_add.lua: a session joins the principal index of its user name. */
    PRINCIPAL_ADD("principal_add.lua"),
    /** principal_read.lua: the members of one principal index, with Redis' clock. */
    PRINCIPAL_READ("principal_read.lua"),
    /** principal_prune.lua: removes principal index members a reader found stale, unless written since. */
    PRINCIPAL_PRUNE("principal_prune.lua");

    private final String resource;
    private final LuaScript script;

    SessionScript(String resource) {
        this.resource = resource;
        this.script = new LuaScript(text(resource));
    }

    LuaScript script() {
        return script;
    }

    /** The script's source, as sent to Redis. */
    String text() {
        return text(resource);
    }

    private static String text(String resource) {
        try (InputStream in = SessionScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Missing script resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
