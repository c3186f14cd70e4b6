package io.tomcatredis.session.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import javax.management.BadAttributeValueExpException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Known gadget classes are never instantiated from stored bytes, by either serializer, whatever
 * serialFilter allows (here: everything explicitly).
 */
class GadgetDenyListTest {

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void gadgetClassIsRefusedEvenWhenSerialFilterAllowsEverything(String serializer) throws Exception {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(), ClassFilter.parse("*"));
        byte[] bytes = codec.encode(new BadAttributeValueExpException("payload"));

        assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(SerializationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void gadgetNestedInAnOrdinaryValueIsRefused(String serializer) throws Exception {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(),
                ClassFilter.DENY_LIST_ONLY);
        Map<String, Object> value = new HashMap<>();
        value.put("harmless", "text");
        value.put("gadget", new BadAttributeValueExpException("payload"));
        byte[] bytes = codec.encode(value);

        assertThatThrownBy(() -> codec.decode(bytes)).isInstanceOf(SerializationException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"kryo", "java"})
    void ordinaryValuesStillRoundTrip(String serializer) throws Exception {
        AttributeCodec codec = AttributeCodec.create(serializer, getClass().getClassLoader(),
                ClassFilter.DENY_LIST_ONLY);
        Map<String, Object> value = new HashMap<>(Map.of("a", 1, "b", "two"));

        assertThat(codec.decode(codec.encode(value))).isEqualTo(value);
    }

    @org.junit.jupiter.api.Test
    void denyListCoversTheCataloguedChains() throws Exception {
        for (String name : new String[] {"com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
                "javax.management.BadAttributeValueExpException", "javax.naming.Reference",
                "sun.rmi.server.UnicastRef"}) {
            assertThat(ClassFilter.parse("*").allows(Class.forName(name))).as(name).isFalse();
        }
        assertThat(ClassFilter.DENY_LIST_ONLY.allows(HashMap.class)).isTrue();
    }
}
