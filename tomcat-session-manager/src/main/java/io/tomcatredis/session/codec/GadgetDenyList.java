package io.tomcatredis.session.codec;

import java.util.List;
import java.util.Set;

/**
 * Classes and packages known from the public catalogues of Java deserialization gadget chains
 * (ysoserial, marshalsec, the Jackson and fastjson block lists, the JDK's own jdk.serialFilter
 * recommendations): never instantiated from what Redis hands back, whatever {@code serialFilter}
 * says. Whoever can write to Redis could otherwise make Tomcat instantiate them. A session value
 * has no business holding any of them.
 */
final class GadgetDenyList {

    /** Exact class names. */
    private static final Set<String> CLASSES = Set.of(
            "com.sun.org.apache.xalan.internal.xsltc.trax.TemplatesImpl",
            "org.apache.xalan.xsltc.trax.TemplatesImpl",
            "com.sun.rowset.JdbcRowSetImpl",
            "javax.management.BadAttributeValueExpException",
            "javax.management.openmbean.CompositeDataInvocationHandler",
            "javax.management.remote.rmi.RMIConnector",
            "java.rmi.server.UnicastRemoteObject",
            "java.rmi.server.RemoteObjectInvocationHandler",
            "sun.rmi.server.UnicastRef",
            "sun.rmi.server.UnicastRef2",
            "sun.rmi.transport.LiveRef",
            "javax.naming.Reference",
            "javax.naming.ldap.Rdn$RdnEntry",
            "javax.script.ScriptEngineManager",
            "sun.reflect.annotation.AnnotationInvocationHandler",
            "com.sun.jndi.rmi.registry.ReferenceWrapper",
            "com.sun.jndi.ldap.LdapAttribute",
            "org.apache.commons.beanutils.BeanComparator",
            "org.apache.commons.fileupload.disk.DiskFileItem",
            "org.apache.wicket.util.upload.DiskFileItem",
            "org.apache.myfaces.view.facelets.el.ValueExpressionMethodExpression",
            "org.apache.myfaces.el.CompositeComponentExpressionHolder",
            "org.jboss.interceptor.builder.InterceptionModelBuilder",
            "org.hibernate.engine.spi.TypedValue",
            "org.hibernate.tuple.component.AbstractComponentTuplizer",
            "org.springframework.beans.factory.ObjectFactory",
            "org.springframework.beans.factory.support.AutowireUtils$ObjectFactoryDelegatingInvocationHandler",
            "org.springframework.aop.framework.JdkDynamicAopProxy",
            "org.springframework.transaction.jta.JtaTransactionManager",
            "org.springframework.core.SerializableTypeWrapper$MethodInvokeTypeProvider",
            "com.mchange.v2.c3p0.WrapperConnectionPoolDataSource",
            "com.mchange.v2.c3p0.impl.PoolBackedDataSourceBase",
            "com.mchange.v2.c3p0.JndiRefForwardingDataSource",
            "com.sun.syndication.feed.impl.ObjectBean",
            "com.rometools.rome.feed.impl.ObjectBean",
            "com.sun.syndication.feed.impl.ToStringBean",
            "com.rometools.rome.feed.impl.ToStringBean",
            "net.sf.json.JSONObject",
            "com.alibaba.fastjson.JSONObject",
            "org.python.core.PyFunction",
            "org.python.core.PyObject",
            "clojure.core$comp$fn__4727",
            "clojure.main$eval_opt",
            "bsh.XThis",
            "bsh.Interpreter",
            "org.mozilla.javascript.NativeJavaObject",
            "org.mozilla.javascript.NativeError",
            "com.vaadin.data.util.NestedMethodProperty",
            "com.vaadin.data.util.PropertysetItem",
            "org.apache.click.control.Column$ColumnComparator",
            "org.apache.commons.configuration.ConfigurationMap",
            "org.apache.commons.configuration2.ConfigurationMap",
            "org.jboss.weld.interceptor.proxy.DefaultInvocationContextFactory",
            "org.apache.tomcat.dbcp.dbcp2.BasicDataSource",
            "org.apache.commons.dbcp.BasicDataSource",
            "org.apache.commons.dbcp2.BasicDataSource",
            "com.zaxxer.hikari.HikariConfig",
            "com.zaxxer.hikari.HikariDataSource",
            "org.apache.ibatis.datasource.unpooled.UnpooledDataSource");

    /**
     * Package (and sub-package) prefixes, ending with a dot; an entry without the dot is a class
     * and its nested classes.
     */
    private static final List<String> PACKAGES = List.of(
            "org.apache.commons.collections.functors.",
            "org.apache.commons.collections4.functors.",
            "org.apache.commons.collections.keyvalue.TiedMapEntry",
            "org.apache.commons.collections4.keyvalue.TiedMapEntry",
            "org.apache.commons.collections.map.LazyMap",
            "org.apache.commons.collections4.map.LazyMap",
            "org.codehaus.groovy.runtime.",
            "groovy.lang.",
            "org.springframework.beans.factory.config.",
            "org.apache.xalan.",
            "com.sun.org.apache.xalan.",
            "com.sun.org.apache.bcel.internal.util.ClassLoader",
            "org.apache.bcel.util.ClassLoader",
            "com.sun.jndi.",
            "javax.naming.",
            "java.rmi.",
            "sun.rmi.",
            "javax.management.",
            "sun.misc.Unsafe",
            "jdk.internal.",
            "java.lang.ProcessBuilder",
            "java.lang.Runtime",
            "java.net.URLClassLoader",
            "java.beans.EventHandler",
            "javax.imageio.ImageIO",
            "org.mozilla.javascript.",
            "org.python.",
            "bsh.",
            "clojure.",
            "com.mchange.v2.c3p0.",
            "org.apache.myfaces.",
            "org.jboss.interceptor.",
            "org.jboss.weld.interceptor.",
            "com.sun.syndication.",
            "com.rometools.rome.feed.impl.",
            "org.apache.commons.beanutils.BeanComparator",
            "org.hibernate.engine.spi.TypedValue",
            "com.sun.rowset.",
            "org.apache.wicket.util.upload.",
            "org.apache.commons.fileupload.",
            "org.apache.ibatis.datasource.",
            "org.apache.commons.jxpath.");

    private GadgetDenyList() {
    }

    /** Whether {@code type} is, or lies in a package of, a known gadget chain. */
    static boolean denies(Class<?> type) {
        String name = type.getName();
        if (CLASSES.contains(name)) {
            return true;
        }
        for (String prefix : PACKAGES) {
            if (name.startsWith(prefix) && (prefix.endsWith(".") || name.length() == prefix.length()
                    || name.charAt(prefix.length()) == '$')) {
                return true;
            }
        }
        return false;
    }
}
