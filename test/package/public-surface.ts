/**
 * The public surface: every name each subpath of the package exports at run time (types are checked by
 * the pack test's consumer). A change here is an API change: say so in the change's note.
 */
export const PUBLIC_SURFACE: Readonly<Record<string, readonly string[]>> = {
  'evident': [
    'EvidentError', 'JwtSvid', 'PrivateKey', 'PublicKey', 'SpiffeId', 'TrustDomain', 'X509Svid', 'collectArtifacts', 'compileLayoutSpec',
    'describeError', 'exitCodeFor', 'fetchJWTSVID', 'fetchX509SVID', 'formatReport', 'generatePrivateKey', 'isEvidentError',
    'loadMetadataFile', 'loadPrivateKey', 'loadPublicKey', 'recordStart', 'recordStop', 'reportToJson', 'runStep', 'saveKeyPair',
    'signMetablock', 'verify', 'writeMetadataFile',
  ],
  'evident/crypto': [
    'CertificateSigner', 'KEYID_HASH_ALGORITHMS', 'PrivateKey', 'PublicKey', 'SCHEMES', 'addEnvelopeSignature', 'canonicalJson',
    'canonicalJsonBytes', 'computeKeyid', 'defaultScheme', 'envelopePayload', 'generatePrivateKey', 'keytypeOf', 'loadPrivateKey',
    'loadPublicKey', 'pae', 'parseEnvelope', 'parsePrivateKey', 'parsePublicKey', 'privateKeyPem', 'publicKeyPem', 'saveKeyPair',
    'securesystemslibKeyFiles', 'signEnvelope', 'verifyEnvelope',
  ],
  'evident/intoto': [
    'DEFAULT_EXCLUDE_PATTERNS', 'DEFAULT_INSPECTION_TIMEOUT_MS', 'DEFAULT_MAX_LINK_BYTES', 'DEFAULT_MAX_METADATA_BYTES',
    'IN_TOTO_PAYLOAD_TYPE', 'LINK_PREDICATE_V03', 'Problems', 'STATEMENT_V1_TYPE', 'ValidationError', 'applyArtifactRules',
    'artifactNameProblem', 'checkRule', 'collectArtifacts', 'compileExcludes', 'compileFnmatch', 'compileLayoutSpec', 'errorLines',
    'expiresProblem', 'fnmatch', 'formatExpires', 'formatReport', 'indexArtifacts', 'linkFileName', 'linkToStatement', 'loadMetadataFile',
    'parseExpires', 'parseLayout', 'parseLink', 'parseMetadata', 'parseRule', 'parseRuleString', 'parseSignedMetadata',
    'parseSignedMetadataText', 'pyNormpath', 'pythonJsonDumps', 'recordStart', 'recordStop', 'reportToJson', 'ruleToTokens', 'runCommand',
    'runStep', 'sameHashes', 'serializeEnvelope', 'serializeMetablock', 'shellJoin', 'shellSplit', 'signLinkEnvelope', 'signMetablock',
    'signableBytes', 'signedOf', 'verify', 'verifyMetablockSignature', 'verifyMetadataSignature', 'writeMetadataFile', 'writeSignedLink',
  ],
  'evident/attestation': [
    'INTOTO_PAYLOAD_TYPE', 'LINK_PREDICATE_TYPE', 'STATEMENT_TYPE', 'linkToStatement', 'parseResourceDescriptor', 'parseStatement',
  ],
  'evident/spiffe': [
    'BundleError', 'JwtBundle', 'JwtBundleSet', 'JwtSvid', 'JwtSvidError', 'NOT_TRUSTED', 'SpiffeBundle', 'SpiffeError', 'SpiffeId',
    'SpiffeIdError', 'TrustDomain', 'WorkloadApiClient', 'WorkloadApiError', 'X509Bundle', 'X509BundleSet', 'X509Svid', 'X509SvidError',
    'createCaCertificate', 'createCertificate', 'createX509Svid', 'fetchJWTBundles', 'fetchJWTSVID', 'fetchX509Bundles',
    'fetchX509Context', 'fetchX509SVID', 'isSpiffeError', 'matchAny', 'matchId', 'matchMemberOf', 'matchOneOf', 'matches', 'signJwtSvid',
    'validateJWTSVID', 'verifyX509Svid',
  ],
  'evident/identity/server': [
    'AdminApiError', 'AttestationError', 'CaManager', 'DEFAULTS', 'EntryValidationError', 'IdentityServer', 'JoinTokenAttestor',
    'MAX_BATCH', 'ManualClock', 'NodeAttestorRegistry', 'SERVER_SETTINGS', 'X509popAttestor', 'adminRequest', 'answerX509popChallenge',
    'bundleToPem', 'bundleToProto', 'bundleToSpiffeJson', 'createServerLogger', 'entriesForAgent', 'isAgentId', 'loadUpstreamCa',
    'nodeAttestorCatalog', 'openDatastore', 'openPostgresDatastore', 'openSqliteDatastore', 'parseDurationSeconds', 'parseSelector', 'parseSpiffeId',
    'resolveServerConfig', 'rotationStep', 'serverSpiffeId', 'settingsFromEnv', 'settingsFromFile', 'silentLogger', 'systemClock',
    'validateEntry', 'x509popPayload',
  ],
  'evident/identity/agent': [
    'AGENT_SETTINGS', 'Agent', 'AgentDataDir', 'DEFAULT_SOCKET_PATH', 'DEFAULT_WORKLOAD_ATTESTORS', 'JoinTokenAttestorClient', 'ManualClock',
    'ServerLink', 'SvidCache', 'SvidSync', 'UnixAttestor', 'WorkloadApiServer', 'WorkloadAttestationError', 'WorkloadAttestorRegistry',
    'X509popAttestorClient', 'agentSettingsFromEnv', 'agentSettingsFromFile', 'checkAgentHealth', 'createAgentLogger', 'fetchBundleInsecure',
    'getPeerCred', 'loadPeercred', 'nodeAttestorClientCatalog', 'readTrustBundleFile', 'resolveAgentConfig', 'systemClock',
    'trustBundlesFromProto', 'trustDomainOfCa', 'workloadAttestorCatalog',
  ],
  'evident/oci': [
    'IMAGE_NAME_ANNOTATION', 'MEDIA_TYPES', 'OPAQUE_WHITEOUT', 'PACKAGE_DB_PATH', 'PACKAGE_DB_SCHEMA', 'REF_NAME_ANNOTATION',
    'WHITEOUT_PREFIX', 'assembleImageLayout', 'buildImage', 'classifyLayerPath', 'describe', 'flattenLayers', 'gunzip',
    'gzipDeterministic', 'isImagePath', 'layerPathParts', 'layerTar', 'loadImageSpec', 'parseDigest', 'parseImageSpec', 'parsePackageDb',
    'readImageLayout', 'readImageLayoutFile', 'readTar', 'resolveInRoot', 'serializePackageDb', 'sha256Digest', 'sha256Hex',
    'sourceDateEpochFrom', 'summarizeImage', 'unpackLayers', 'writeTar',
  ],
  'evident/sbom': [
    'CYCLONEDX_SPEC_VERSION', 'imageSbom', 'ociPurl', 'parsePurl', 'readCycloneDx', 'serializeBom', 'uuidV5',
  ],
  'evident/scan': [
    'SCANNER', 'SCAN_PREDICATE_TYPE', 'SEVERITIES', 'checkReport', 'compareGenericVersion', 'compareSemver', 'componentPurl',
    'cvss3BaseScore', 'cvssRating', 'findingLine', 'isAffected', 'loadAdvisoryFeed', 'packageMatches', 'parseGenericVersion', 'parseOsv',
    'parseReport', 'parseSemver', 'parseSeverityWord', 'rangeAffects', 'reportStatement', 'scanBom', 'serializeReport', 'severityRank',
    'versionOrder',
  ],
};
