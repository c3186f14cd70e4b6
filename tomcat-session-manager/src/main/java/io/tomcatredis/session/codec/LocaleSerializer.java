package io.tomcatredis.session.codec;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.ImmutableSerializer;
import java.util.Locale;

/**
 * A {@link Locale} as its BCP 47 language tag when the tag gives back an equal locale (script and
 * extensions included, which Kryo's own serializer drops), otherwise with Java serialization.
 */
final class LocaleSerializer extends ImmutableSerializer<Locale> {

    private final EmbeddedJavaSerializer java;

    LocaleSerializer(EmbeddedJavaSerializer java) {
        this.java = java;
    }

    @Override
    public void write(Kryo kryo, Output output, Locale locale) {
        String tag = locale.toLanguageTag();
        boolean exact = Locale.forLanguageTag(tag).equals(locale);
        output.writeBoolean(exact);
        if (exact) {
            output.writeString(tag);
        } else {
            java.write(kryo, output, locale);
        }
    }

    @Override
    public Locale read(Kryo kryo, Input input, Class<? extends Locale> type) {
        return input.readBoolean() ? Locale.forLanguageTag(input.readString()) : (Locale) java.read(kryo, input, type);
    }
}
