//! The shape of a values file, written once: which keys each mapping
//! takes, what each holds and what it means. The decoder refuses keys that
//! are not here (and suggests the closest that is); `schema` turns the same
//! tables into the JSON Schema editors use. The decoder's finer rules
//! (DNS names, tags, contradicting keys) stay in code next to their
//! messages; the schema carries the ones an editor can check.

/// What one key holds.
pub enum Shape {
    /// Any string.
    Str,
    /// A string matching a pattern (JSON Schema / ECMA-262 syntax), with a
    /// length limit.
    Pattern(&'static str, usize),
    Bool,
    /// A port: a number 1–65535, or a port name.
    Port,
    /// Tailscale tags: a list, or the operator's comma-separated string.
    Tags,
    /// One of these strings.
    OneOf(&'static [&'static str]),
    /// Label keys to label values.
    Labels,
    List(&'static Shape),
    Object(&'static Object),
    /// Keys the user chooses (a DNS-1123 label each), each an object.
    Named(&'static Object),
    /// A mapping passed through as it is (chart values, an Application's
    /// destination).
    AnyMap,
    /// Anything (a patch value).
    Any,
}

/// One key of a mapping.
pub struct Field {
    pub key: &'static str,
    pub shape: Shape,
    pub description: &'static str,
}

/// A mapping with a fixed set of keys.
pub struct Object {
    /// The name of its definition in the schema.
    pub name: &'static str,
    pub description: &'static str,
    pub fields: &'static [Field],
    pub required: &'static [&'static str],
    /// Keys of which exactly one must be present.
    pub exactly_one: &'static [&'static str],
    /// Keys of which at most one may be present.
    pub exclusive: &'static [&'static str],
}

impl Object {
    pub fn has(&self, key: &str) -> bool {
        self.fields.iter().any(|f| f.key == key)
    }

    pub fn keys(&self) -> Vec<&'static str> {
        self.fields.iter().map(|f| f.key).collect()
    }
}

const fn field(key: &'static str, shape: Shape, description: &'static str) -> Field {
    Field {
        key,
        shape,
        description,
    }
}

pub const DNS1123_LABEL: Shape = Shape::Pattern("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", 63);
const DNS1123_SUBDOMAIN: Shape = Shape::Pattern(
    "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
    253,
);
const HOSTNAME: Shape = Shape::Pattern("^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$", 63);
/// A ProxyGroup name, or "" for none.
const PROXY_GROUP: Shape = Shape::Pattern(
    "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)?$",
    253,
);

pub const ROOT: Object = Object {
    name: "values",
    description: "Values of argocd-tailscale-plugin: the services to expose on the tailnet (or, in an apps directory, the child Applications).",
    fields: &[
        field(
            "tailnet",
            Shape::Pattern(
                "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$",
                253,
            ),
            "The tailnet's MagicDNS domain (example.ts.net); notes each service's address.",
        ),
        field(
            "upstream",
            Shape::List(&Shape::Object(&UPSTREAM)),
            "Manifests rendered by someone else, post-processed: the split, the derived selector and targetPort.",
        ),
        field(
            "global",
            Shape::Object(&GLOBAL),
            "The protected-services chart's own block.",
        ),
        field(
            "defaults",
            Shape::Object(&DEFAULTS),
            "Used by services that do not set their own.",
        ),
        field(
            "services",
            Shape::Named(&SERVICE),
            "The services to expose; the key names the generated objects.",
        ),
        field(
            "patches",
            Shape::List(&Shape::Object(&PATCH)),
            "RFC 6902 patches, applied last, to the objects a target names.",
        ),
        field(
            "argocd",
            Shape::Object(&ARGOCD),
            "Apps directory: defaults of the child Applications.",
        ),
        field(
            "applications",
            Shape::Named(&APPLICATION),
            "Apps directory: the child Applications, one per directory.",
        ),
    ],
    required: &[],
    exactly_one: &[],
    exclusive: &[],
};

pub const GLOBAL: Object = Object {
    name: "global",
    description: "The protected-services chart's own block.",
    fields: &[field(
        "proxyGroup",
        PROXY_GROUP,
        "An ingress ProxyGroup for the Ingresses (expose: ingress) only, as in the protected-services chart; \"\" for none.",
    )],
    required: &[],
    exactly_one: &[],
    exclusive: &[],
};

pub const DEFAULTS: Object = Object {
    name: "defaults",
    description: "Used by services that do not set their own.",
    fields: &[
        field(
            "namespace",
            DNS1123_LABEL,
            "Namespace of services without one (else Argo CD's destination namespace).",
        ),
        field(
            "tags",
            Shape::Tags,
            "Proxy tags: a list, or \"tag:a,tag:b\".",
        ),
        field(
            "proxyGroup",
            PROXY_GROUP,
            "An ingress ProxyGroup for every service, for HA; \"\" for none. Wins over global.proxyGroup.",
        ),
    ],
    required: &[],
    exactly_one: &[],
    exclusive: &[],
};

pub const SERVICE: Object = Object {
    name: "service",
    description: "One service to expose on the tailnet.",
    fields: &[
        field("enabled", Shape::Bool, "false renders nothing."),
        field(
            "direct",
            Shape::Bool,
            "The protected-services chart's switch: true is expose: direct.",
        ),
        field(
            "expose",
            Shape::OneOf(&["direct", "ingress", "annotate"]),
            "direct: a generated <key>-ts-lb LoadBalancer Service; ingress: a tailscale Ingress; annotate: the backend Service itself. Default: ingress (or direct with direct: true).",
        ),
        field("namespace", DNS1123_LABEL, "The service's namespace."),
        field(
            "hostname",
            HOSTNAME,
            "The tailnet hostname; one DNS label. Default: the key.",
        ),
        field("tags", Shape::Tags, "Proxy tags; replaces defaults.tags."),
        field(
            "proxyGroup",
            PROXY_GROUP,
            "Replaces defaults.proxyGroup; \"\" means none.",
        ),
        field(
            "proxyClass",
            DNS1123_SUBDOMAIN,
            "A ProxyClass, as the tailscale.com/proxy-class label.",
        ),
        field(
            "backend",
            Shape::Object(&BACKEND),
            "The Service that fronts the workload.",
        ),
        field(
            "selector",
            Shape::Labels,
            "direct: narrows the backend's spec.selector (never replaces it).",
        ),
        field(
            "targetPort",
            Shape::Port,
            "direct: a port the selected pods declare. Default: the backend's.",
        ),
        field(
            "preset",
            DNS1123_LABEL,
            "Chart knowledge when no upstream manifests are given (teleport-cluster).",
        ),
        field(
            "release",
            DNS1123_LABEL,
            "The chart's release, for the preset. Default: backend.name.",
        ),
    ],
    // A second values file (-f) often sets a key or two of a service;
    // the decoder requires `backend` of the merged result.
    required: &[],
    exactly_one: &[],
    exclusive: &[],
};

pub const BACKEND: Object = Object {
    name: "backend",
    description: "The Service that fronts the workload.",
    fields: &[
        field(
            "name",
            Shape::Pattern("^[a-z]([-a-z0-9]*[a-z0-9])?$", 63),
            "The backend Service's name.",
        ),
        field(
            "port",
            Shape::Port,
            "The backend Service's port, by number or name.",
        ),
        field(
            "ports",
            Shape::List(&Shape::Port),
            "direct: several ports of the backend Service, by number or name.",
        ),
    ],
    // Like a service, a backend may be completed by a later values file.
    required: &[],
    exactly_one: &[],
    exclusive: &["port", "ports"],
};

pub const UPSTREAM: Object = Object {
    name: "upstream",
    description: "One source of upstream manifests.",
    fields: &[
        field(
            "file",
            Shape::Str,
            "A manifest file, relative to this values file.",
        ),
        field(
            "helm",
            Shape::Object(&HELM),
            "A chart rendered here by helm template.",
        ),
        field(
            "kustomize",
            Shape::Object(&KUSTOMIZE),
            "A Kustomize overlay built here by kustomize build.",
        ),
        field(
            "directory",
            Shape::Object(&DIRECTORY),
            "A directory of manifest files, read as Argo CD's directory source reads it.",
        ),
    ],
    required: &[],
    exactly_one: &["file", "helm", "kustomize", "directory"],
    exclusive: &[],
};

pub const KUSTOMIZE: Object = Object {
    name: "kustomize",
    description: "A Kustomize overlay, built by kustomize build in a sandbox; the options are those of Argo CD's Kustomize source, set on the sandbox's copy as kustomize edit would.",
    fields: &[
        field(
            "path",
            Shape::Str,
            "The overlay's directory, relative to this values file.",
        ),
        field(
            "namePrefix",
            Shape::Str,
            "Replaces the overlay's namePrefix.",
        ),
        field(
            "nameSuffix",
            Shape::Str,
            "Replaces the overlay's nameSuffix.",
        ),
        field(
            "namespace",
            DNS1123_LABEL,
            "Replaces the overlay's namespace.",
        ),
        field(
            "commonLabels",
            Shape::Labels,
            "Added to the overlay's commonLabels (replacing equal keys).",
        ),
        field(
            "images",
            Shape::List(&Shape::Str),
            "Image overrides as kustomize edit set image takes them: name=newName:tag, name:tag, name@digest.",
        ),
    ],
    required: &["path"],
    exactly_one: &[],
    exclusive: &[],
};

pub const DIRECTORY: Object = Object {
    name: "directory",
    description: "A directory of *.yaml, *.yml and *.json manifests, read in path order; hidden files and directories are skipped.",
    fields: &[
        field(
            "path",
            Shape::Str,
            "The directory, relative to this values file.",
        ),
        field(
            "recurse",
            Shape::Bool,
            "Read subdirectories too. Default: false.",
        ),
        field(
            "include",
            Shape::Str,
            "A glob the file's path (relative to the directory) must match; {a,b} for several.",
        ),
        field(
            "exclude",
            Shape::Str,
            "A glob of paths to leave out; wins over include.",
        ),
    ],
    required: &["path"],
    exactly_one: &[],
    exclusive: &[],
};

pub const HELM: Object = Object {
    name: "helm",
    description: "A chart rendered by helm template, in a sandbox.",
    fields: &[
        field(
            "chart",
            Shape::Str,
            "A chart directory in the repository, relative to this values file (or an oci:// or https:// chart the sidecar's administrator allows).",
        ),
        field("release", DNS1123_LABEL, "The Helm release name."),
        field(
            "namespace",
            DNS1123_LABEL,
            "Helm's --namespace. Default: defaults.namespace, else the destination namespace.",
        ),
        field(
            "version",
            Shape::Str,
            "The chart version, for remote charts.",
        ),
        field(
            "valuesFiles",
            Shape::List(&Shape::Str),
            "Chart values files, relative to this values file.",
        ),
        field(
            "values",
            Shape::AnyMap,
            "Inline chart values, after the files.",
        ),
    ],
    required: &["chart", "release"],
    exactly_one: &[],
    exclusive: &[],
};

pub const PATCH: Object = Object {
    name: "patch",
    description: "An RFC 6902 patch of the objects a target names.",
    fields: &[
        field("target", Shape::Object(&TARGET), "The object to patch."),
        field(
            "ops",
            Shape::List(&Shape::Object(&OP)),
            "RFC 6902 operations.",
        ),
    ],
    required: &["target", "ops"],
    exactly_one: &[],
    exclusive: &[],
};

pub const TARGET: Object = Object {
    name: "target",
    description: "One object of the output.",
    fields: &[
        field("apiVersion", Shape::Str, "Optional."),
        field("kind", Shape::Str, "The object's kind."),
        field("namespace", Shape::Str, "Optional."),
        field("name", Shape::Str, "The object's name."),
    ],
    required: &["kind", "name"],
    exactly_one: &[],
    exclusive: &[],
};

/// An RFC 6902 operation; read by the JSON Patch library, so only the
/// schema uses this table.
pub const OP: Object = Object {
    name: "op",
    description: "One RFC 6902 operation.",
    fields: &[
        field(
            "op",
            Shape::OneOf(&["add", "remove", "replace", "move", "copy", "test"]),
            "The operation.",
        ),
        field("path", Shape::Str, "A JSON pointer."),
        field(
            "from",
            Shape::Str,
            "move and copy: the JSON pointer to read.",
        ),
        field("value", Shape::Any, "add, replace and test: the value."),
    ],
    required: &["op", "path"],
    exactly_one: &[],
    exclusive: &[],
};

pub const ARGOCD: Object = Object {
    name: "argocd",
    description: "Defaults of the child Applications of an apps directory.",
    fields: &[
        field("namespace", DNS1123_LABEL, "The Applications' namespace."),
        field("project", Shape::Str, "The AppProject."),
        field(
            "repoURL",
            Shape::Str,
            "The source repository. Default: this Application's.",
        ),
        field(
            "targetRevision",
            Shape::Str,
            "The source revision. Default: this Application's.",
        ),
    ],
    required: &[],
    exactly_one: &[],
    exclusive: &[],
};

pub const APPLICATION: Object = Object {
    name: "application",
    description: "One child Application, rendered by this plugin from its own directory.",
    fields: &[
        field(
            "path",
            Shape::Str,
            "The child directory, relative to the repository root.",
        ),
        field(
            "project",
            Shape::Str,
            "The AppProject; replaces argocd.project.",
        ),
        field(
            "destination",
            Shape::AnyMap,
            "The Application's destination.",
        ),
        field("syncPolicy", Shape::AnyMap, "The Application's syncPolicy."),
        field(
            "parameters",
            Shape::List(&Shape::AnyMap),
            "spec.source.plugin.parameters, passed through.",
        ),
        field(
            "env",
            Shape::List(&Shape::AnyMap),
            "spec.source.plugin.env, passed through.",
        ),
    ],
    required: &["path", "destination"],
    exactly_one: &[],
    exclusive: &[],
};
