"""Our description of the settings keys Claude Code documents, with their JSON types.

Types: string, boolean, integer, number, object, array, string[] and alternatives joined by |.
Claude Code drops a whole settings file when a known key has the wrong type; it skips hook entries
under an unknown event; it silently ignores unknown top-level keys. Sources: the settings reference
at code.claude.com/docs/en/settings and the JSON schema Claude Code's docs point editors at.
"""

from __future__ import annotations

SETTINGS_KEYS: dict[str, str] = {
    "$schema": "string",
    "advisorModel": "string",
    "agent": "string",
    "agentPushNotifEnabled": "boolean",
    "allowAllClaudeAiMcps": "boolean",
    "allowManagedHooksOnly": "boolean",
    "allowManagedMcpServersOnly": "boolean",
    "allowManagedPermissionRulesOnly": "boolean",
    "allowedChannelPlugins": "array",
    "allowedHttpHookUrls": "string[]",
    "allowedMcpServers": "array",
    "alwaysThinkingEnabled": "boolean",
    "apiKeyHelper": "string",
    "attribution": "object|boolean",
    "autoCompactEnabled": "boolean",
    "autoCompactWindow": "number|string",
    "autoDreamEnabled": "boolean",
    "autoMemoryDirectory": "string",
    "autoMemoryEnabled": "boolean",
    "autoMode": "object",
    "autoScrollEnabled": "boolean",
    "autoUpdates": "boolean",
    "autoUpdatesChannel": "string",
    "availableModels": "string[]",
    "awaySummaryEnabled": "boolean",
    "awsAuthRefresh": "string",
    "awsCredentialExport": "string",
    "axScreenReader": "boolean",
    "blockedMarketplaces": "array",
    "channelsEnabled": "boolean",
    "claudeMd": "string",
    "claudeMdExcludes": "string[]",
    "cleanupPeriodDays": "integer",
    "companyAnnouncements": "string[]",
    "defaultShell": "string",
    "deniedMcpServers": "array",
    "disableAgentView": "boolean",
    "disableAllHooks": "boolean",
    "disableArtifact": "boolean",
    "disableAutoMode": "string",
    "disableBundledSkills": "boolean",
    "disableClaudeAiConnectors": "boolean",
    "disableDeepLinkRegistration": "string",
    "disableRemoteControl": "boolean",
    "disableSkillShellExecution": "boolean",
    "disableWorkflows": "boolean",
    "disabledMcpjsonServers": "string[]",
    "editorMode": "string",
    "effortLevel": "string",
    "enableAllProjectMcpServers": "boolean",
    "enabledMcpjsonServers": "string[]",
    "enabledPlugins": "object",
    "enforceAvailableModels": "boolean",
    "env": "object",
    "extraKnownMarketplaces": "object",
    "fallbackModel": "string[]",
    "fastMode": "boolean",
    "fastModePerSessionOptIn": "boolean",
    "feedbackSurveyRate": "number",
    "fileCheckpointingEnabled": "boolean",
    "fileSuggestion": "object",
    "footerLinksRegexes": "array",
    "forceLoginMethod": "string",
    "forceLoginOrgUUID": "string",
    "forceRemoteSettingsRefresh": "boolean",
    "gcpAuthRefresh": "string",
    "hooks": "object",
    "httpHookAllowedEnvVars": "string[]",
    "includeCoAuthoredBy": "boolean",
    "includeGitInstructions": "boolean",
    "inputNeededNotifEnabled": "boolean",
    "language": "string",
    "leftArrowOpensAgents": "boolean",
    "managedMcpServers": "array",
    "minimumVersion": "string",
    "model": "string",
    "modelOverrides": "object",
    "otelHeadersHelper": "string",
    "outputStyle": "string",
    "parentSettingsBehavior": "string",
    "permissions": "object",
    "plansDirectory": "string",
    "pluginConfigs": "object",
    "pluginSuggestionMarketplaces": "string[]",
    "pluginTrustMessage": "string",
    "policyHelper": "object",
    "preferredNotifChannel": "string",
    "prefersReducedMotion": "boolean",
    "prUrlTemplate": "string",
    "remoteControlAtStartup": "boolean",
    "requiredMaximumVersion": "string",
    "requiredMinimumVersion": "string",
    "respectGitignore": "boolean",
    "respondToBashCommands": "boolean",
    "sandbox": "object",
    "showClearContextOnPlanAccept": "boolean",
    "showThinkingSummaries": "boolean",
    "showTurnDuration": "boolean",
    "skillListingBudgetFraction": "number",
    "skillListingMaxDescChars": "integer",
    "skillOverrides": "object",
    "skipDangerousModePermissionPrompt": "boolean",
    "skipWebFetchPreflight": "boolean",
    "skippedMarketplaces": "string[]",
    "skippedPlugins": "string[]",
    "spinnerTipsEnabled": "boolean",
    "spinnerTipsOverride": "object",
    "spinnerVerbs": "object",
    "sshConfigs": "array",
    "sshHostAllowlist": "string[]",
    "statusLine": "object",
    "strictKnownMarketplaces": "array",
    "strictPluginOnlyCustomization": "boolean|string[]",
    "subagentStatusLine": "object",
    "syntaxHighlightingDisabled": "boolean",
    "teammateMode": "string",
    "terminalProgressBarEnabled": "boolean",
    "theme": "string",
    "tui": "string",
    "useAutoModeDuringPlan": "boolean",
    "verbose": "boolean",
    "viewMode": "string",
    "voice": "object",
    "voiceEnabled": "boolean",
    "wheelScrollAccelerationEnabled": "boolean",
    "workflowKeywordTriggerEnabled": "boolean",
    "worktree": "object",
    "wslInheritsWindowsSettings": "boolean",
}

PERMISSIONS_KEYS: dict[str, str] = {
    "allow": "string[]",
    "deny": "string[]",
    "ask": "string[]",
    "defaultMode": "string",
    "disableBypassPermissionsMode": "string",
    "disableAutoMode": "string",
    "additionalDirectories": "string[]",
}

HOOK_EVENTS: frozenset[str] = frozenset(
    {
        "ConfigChange", "CwdChanged", "Elicitation", "ElicitationResult", "FileChanged",
        "InstructionsLoaded", "MessageDisplay", "Notification", "PermissionDenied", "PermissionRequest",
        "PostCompact", "PostToolBatch", "PostToolUse", "PostToolUseFailure", "PreCompact", "PreToolUse",
        "SessionEnd", "SessionStart", "Setup", "Stop", "StopFailure", "SubagentStart", "SubagentStop",
        "TaskCompleted", "TaskCreated", "TeammateIdle", "UserPromptExpansion", "UserPromptSubmit",
        "WorktreeCreate", "WorktreeRemove",
    }
)  # fmt: skip

# Keys people put in settings.json that belong elsewhere: the hint replaces "did you mean".
MISPLACED_KEYS: dict[str, str] = {
    "mcpServers": "MCP servers are not read from settings files: use `claude mcp add` or the project's .mcp.json",
    "apiKey": "Claude Code does not read a key from settings: export ANTHROPIC_API_KEY or set apiKeyHelper",
}


def json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def matches(value: object, spec: str) -> bool:
    """Does a JSON value have one of the types in `spec`?"""
    actual = json_type(value)
    for alternative in spec.split("|"):
        if alternative == actual or (alternative == "number" and actual == "integer"):
            return True
        if alternative == "string[]" and actual == "array" and all(isinstance(v, str) for v in value):
            return True
    return False
