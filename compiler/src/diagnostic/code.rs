//! The registry of diagnostic codes.
//!
//! Codes are stable: once published, a code keeps its meaning. They are
//! numbered by the stage that raises them:
//! SVC01xx syntax, SVC02xx decode, SVC03xx semantic checks, SVC04xx lints
//! (warnings) and security checks (SVC0405 and SVC0406 are errors: a patch
//! that undoes hardening, a credential written into the spec), SVC05xx
//! generated objects failing their schema, SVC06xx what the cluster would
//! refuse, SVC07xx the service graph and its network (SVC0708-SVC0711 are
//! warnings), SVC08xx `svcc import` (reading existing
//! manifests), SVC09xx input/output and
//! command-line problems.
//!
//! Each code has a page under `docs/codes/`, shown by `svcc explain CODE`.

macro_rules! codes {
    ($( $variant:ident = $code:literal, $slug:literal; )*) => {
        /// A stable diagnostic code.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            /// Every code, in numeric order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The code as printed, e.g. `SVC0202`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// A short kebab-case name, e.g. `unknown-node`.
            pub fn slug(self) -> &'static str {
                match self { $( Code::$variant => $slug, )* }
            }

            /// The long explanation (Markdown), as printed by `svcc explain`.
            pub fn explanation(self) -> &'static str {
                match self {
                    $( Code::$variant => include_str!(concat!("../../../docs/codes/", $code, ".md")), )*
                }
            }
        }
    };
}

codes! {
    KdlSyntax = "SVC0101", "kdl-syntax";
    KdlV1 = "SVC0102", "kdl-v1";
    NotUtf8 = "SVC0103", "not-utf8";
    MissingService = "SVC0201", "missing-service";
    UnknownNode = "SVC0202", "unknown-node";
    UnknownProperty = "SVC0203", "unknown-property";
    WrongType = "SVC0204", "wrong-type";
    MissingValue = "SVC0205", "missing-value";
    UnexpectedArgument = "SVC0206", "unexpected-argument";
    Duplicate = "SVC0207", "duplicate-definition";
    InvalidName = "SVC0208", "invalid-name";
    InvalidQuantity = "SVC0209", "invalid-quantity";
    InvalidDuration = "SVC0210", "invalid-duration";
    OutOfRange = "SVC0211", "out-of-range";
    InvalidImage = "SVC0212", "invalid-image";
    InvalidChoice = "SVC0213", "invalid-choice";
    UnexpectedChildren = "SVC0214", "unexpected-children";
    WorkflowExpression = "SVC0215", "workflow-expression";
    InvalidPatch = "SVC0230", "invalid-patch";
    PresetFile = "SVC0231", "preset-file";
    OutsideRepository = "SVC0232", "outside-repository";
    HiddenFile = "SVC0233", "hidden-file";
    EmptySelector = "SVC0240", "empty-selector";
    InvalidCondition = "SVC0241", "invalid-condition";
    AnalysisArg = "SVC0242", "analysis-arg";
    ServiceSelectsNothing = "SVC0243", "service-selects-nothing";
    MonitorSelectsNothing = "SVC0244", "monitor-selects-nothing";
    LimitRequired = "SVC0250", "limit-required";
    InvalidCron = "SVC0260", "invalid-cron";
    InvalidTimeZone = "SVC0261", "invalid-time-zone";
    ConfigFile = "SVC0262", "config-file";
    ConfigKeyConflict = "SVC0263", "config-key-conflict";
    AnalysisJobSetting = "SVC0265", "analysis-job-setting";
    AnalysisJobPlaceholder = "SVC0266", "analysis-job-placeholder";
    AnalysisTemplateName = "SVC0267", "analysis-template-name";
    DuplicatePort = "SVC0301", "duplicate-port";
    UnknownPort = "SVC0302", "unknown-port";
    AutoscaleBounds = "SVC0303", "autoscale-bounds";
    LimitsBelowRequests = "SVC0304", "limits-below-requests";
    OverrideWithoutBase = "SVC0305", "override-without-base";
    ImageTag = "SVC0306", "image-tag";
    ShutdownTiming = "SVC0307", "shutdown-timing";
    RolloutStalls = "SVC0308", "rollout-stalls";
    MountConflict = "SVC0309", "mount-conflict";
    DisruptionBlocked = "SVC0310", "disruption-blocked";
    ServiceConflict = "SVC0311", "service-conflict";
    ReservedLabel = "SVC0312", "reserved-label";
    NeedsMetrics = "SVC0313", "needs-metrics";
    InvalidPromql = "SVC0314", "invalid-promql";
    RollbackWindow = "SVC0320", "rollback-window-too-short";
    DeployBudget = "SVC0321", "deploy-budget-exceeded";
    CanaryIncomplete = "SVC0322", "canary-never-completes";
    PromotionConflict = "SVC0323", "promotion-conflict";
    PreviewStarvesActive = "SVC0324", "preview-starves-active";
    UnknownPreset = "SVC0330", "unknown-preset";
    ImportCycle = "SVC0331", "import-cycle";
    ConflictingDefinitions = "SVC0332", "conflicting-definitions";
    PatchTarget = "SVC0333", "patch-target";
    PatchPath = "SVC0334", "patch-path";
    PresetUsedTwice = "SVC0335", "preset-used-twice";
    TooManyPresets = "SVC0336", "too-many-presets";
    UnknownDeployEnvironment = "SVC0340", "unknown-deploy-environment";
    PromotionOrder = "SVC0341", "promotion-order";
    PipelineFolderConflict = "SVC0342", "pipeline-folder-conflict";
    TemplateError = "SVC0343", "template-error";
    TemplatePartial = "SVC0344", "template-partial";
    TemplateLimit = "SVC0345", "template-limit";
    UnverifiedInstall = "SVC0346", "unverified-install";
    GitopsIncomplete = "SVC0350", "gitops-incomplete";
    GitopsOtherEngine = "SVC0351", "gitops-other-engine";
    GitopsNoNamespace = "SVC0352", "gitops-no-namespace";
    GitopsConflict = "SVC0353", "gitops-conflict";
    GitopsUnknownEnvironment = "SVC0354", "gitops-unknown-environment";
    ServiceType = "SVC0360", "service-type";
    ServiceNameTaken = "SVC0361", "service-name-taken";
    ScrapePortNotServed = "SVC0362", "scrape-port-not-served";
    SelectorNotStable = "SVC0363", "selector-not-stable";
    SelectorDisagrees = "SVC0364", "selector-disagrees";
    UnknownObject = "SVC0365", "unknown-object";
    ScrapeCredentials = "SVC0366", "scrape-credentials";
    RelabelIncomplete = "SVC0367", "relabel-incomplete";
    ScrapeTimeout = "SVC0368", "scrape-timeout";
    ScrapeNotSecured = "SVC0369", "scrape-not-secured";
    InitContainerProbe = "SVC0370", "init-container-probe";
    ContainerConflict = "SVC0371", "container-conflict";
    TokenNeeded = "SVC0372", "token-needed";
    ScrapeEndpointTwice = "SVC0373", "scrape-endpoint-twice";
    JobLabelNotOnService = "SVC0374", "job-label-not-on-service";
    JobLabelWithRollout = "SVC0375", "job-label-with-rollout";
    JobNameTooLong = "SVC0380", "job-name-too-long";
    JobSettingMisplaced = "SVC0381", "job-setting-misplaced";
    ConfigTooLarge = "SVC0382", "config-too-large";
    HookWithoutArgoCd = "SVC0383", "hook-without-argocd";
    ExternalSecretIncomplete = "SVC0384", "external-secret-incomplete";
    AnalysisQuery = "SVC0390", "analysis-query";
    ConditionResultType = "SVC0391", "condition-result-type";
    WholeUpdateCount = "SVC0392", "whole-update-count";
    TrafficNeedsCanaryService = "SVC0393", "traffic-needs-canary-service";
    NoReadiness = "SVC0401", "no-readiness";
    ReplicasIgnored = "SVC0402", "replicas-ignored";
    WeakenedSecurity = "SVC0403", "weakened-security";
    NoPrometheusLabels = "SVC0404", "no-prometheus-labels";
    PatchWeakensSecurity = "SVC0405", "patch-weakens-security";
    LiteralSecret = "SVC0406", "literal-secret";
    UnusedException = "SVC0407", "unused-exception";
    UnreachableBurnRate = "SVC0408", "unreachable-burn-rate";
    ImplausibleResources = "SVC0409", "implausible-resources";
    SchemaViolation = "SVC0501", "schema-violation";
    PatchSchema = "SVC0502", "patch-schema";
    PatchUnknownField = "SVC0503", "patch-unknown-field";
    SelectorMismatch = "SVC0601", "selector-mismatch";
    InvalidMetadata = "SVC0602", "invalid-metadata";
    InvalidCount = "SVC0603", "invalid-count";
    PodStructure = "SVC0604", "pod-structure";
    ControlCharacter = "SVC0605", "control-character";
    RolloutStructure = "SVC0606", "rollout-structure";
    ServicePorts = "SVC0607", "service-ports";
    DanglingReference = "SVC0608", "dangling-reference";
    UnknownCallee = "SVC0701", "unknown-callee";
    UnknownCalleePort = "SVC0702", "unknown-callee-port";
    CalledWithoutPorts = "SVC0703", "called-without-ports";
    ProtocolMismatch = "SVC0704", "call-protocol-mismatch";
    CalleeEnvironment = "SVC0705", "callee-environment-missing";
    CalleeNamespace = "SVC0706", "callee-namespace-mismatch";
    CallNotAdmitted = "SVC0707", "call-not-admitted";
    UnusedAdmission = "SVC0708", "unused-admission";
    UnknownCaller = "SVC0709", "unknown-caller";
    CallCycle = "SVC0710", "call-cycle";
    HostEgress = "SVC0711", "host-egress";
    UnreachableExposure = "SVC0712", "unreachable-exposure";
    CalleePortNotServed = "SVC0713", "callee-port-not-served";
    CanaryWithoutRoute = "SVC0714", "canary-without-route";
    InvalidHostname = "SVC0720", "invalid-hostname";
    RoutePortNotServed = "SVC0721", "route-port-not-served";
    RouteWithoutEntry = "SVC0722", "route-without-entry";
    CanaryRouteMismatch = "SVC0723", "canary-route-mismatch";
    GrpcRoutePath = "SVC0724", "grpc-route-path";
    TlsWithoutSource = "SVC0725", "tls-without-source";
    KedaUnscraped = "SVC0730", "keda-unscraped";
    KedaWithoutPrometheus = "SVC0731", "keda-without-prometheus";
    AdapterMetricConflict = "SVC0732", "adapter-metric-conflict";
    ImportNotYaml = "SVC0801", "import-not-yaml";
    ImportNotAnObject = "SVC0802", "import-not-an-object";
    ImportUnknownKind = "SVC0803", "import-unknown-kind";
    ImportNoWorkload = "SVC0804", "import-no-workload";
    ImportDuplicateWorkload = "SVC0805", "import-duplicate-workload";
    ImportSecretData = "SVC0806", "import-secret-data";
    ImportTooLarge = "SVC0807", "import-too-large";
    ImportNothing = "SVC0808", "import-nothing";
    ImportMissingInEnvironment = "SVC0809", "import-missing-in-environment";
    ImportInvalidName = "SVC0810", "import-invalid-name";
    ImportHelm = "SVC0811", "import-helm";
    ImportFailed = "SVC0812", "import-failed";
    ReadFailed = "SVC0901", "read-failed";
    WriteFailed = "SVC0902", "write-failed";
    UnknownEnvironment = "SVC0903", "unknown-environment";
    InvalidArgument = "SVC0904", "invalid-argument";
    FormatFailed = "SVC0905", "format-failed";
    UnsafeFileName = "SVC0906", "unsafe-file-name";
    NotAFile = "SVC0907", "not-a-file";
    FileTooLarge = "SVC0908", "file-too-large";
    SymlinkRefused = "SVC0910", "symlink-refused";
    FolderNotOwned = "SVC0911", "folder-not-owned";
    OutputHoldsInput = "SVC0912", "output-holds-input";
    InterruptedBuild = "SVC0913", "interrupted-build";
}

impl Code {
    /// Look a code up by its `SVCnnnn` form (case-insensitive, the `SVC`
    /// prefix optional) or its slug.
    pub fn parse(s: &str) -> Option<Code> {
        let s = s.trim();
        let upper = s.to_ascii_uppercase();
        let with_prefix = if upper.starts_with("SVC") { upper.clone() } else { format!("SVC{upper}") };
        Code::ALL.iter().copied().find(|c| c.as_str() == with_prefix || c.slug() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
