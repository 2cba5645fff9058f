--- tg.dns_filtering_profiles: DNS filtering profiles.
--
--   for p in tg.dns_filtering_profiles:each() do print(p.id, p.name, p.priority) end
--   local all = tg.dns_filtering_profiles:list(nil, { include = { "groups" } })  -- full profiles
--   local p = tg.dns_filtering_profiles:create{ name = "Strict" }
--   tg.dns_filtering_profiles:update(p.id, { deniedDomains = { "bad.example" }, groups = { g.id } })
--   tg.dns_filtering_profiles:delete(p.id)
-- The root list is a plain list of summaries (id name priority), not a
-- connection: `each`/`list` read it in one request; with `fields` or `include`
-- the full profiles are then read with get_many (batched).
local collections = require "twingate.collections"

local CATEGORIES = "privacyCategoryConfig { blockAdsAndTrackers blockAffiliate blockDisguisedTrackers } "
  .. "securityCategoryConfig { blockCryptojacking blockDnsRebinding blockDomainGenerationAlgorithms "
  .. "blockIdnHomographs blockNewlyRegisteredDomains blockParkedDomains blockTyposquatting "
  .. "enableGoogleSafeBrowsing enableThreatIntelligenceFeeds } "
  .. "contentCategoryConfig { blockAdultContent blockDating blockGambling blockGames blockPiracy "
  .. "blockSocialMedia blockStreaming enableSafeSearch enableYoutubeRestrictedMode }"

local C = collections.define{
  name = "DnsFilteringProfile", plural = "DnsFilteringProfiles",
  list_field = "dnsFilteringProfiles", get_field = "dnsFilteringProfile", get_id_type = "ID!",
  plain_list = true, list_fields = "id name priority",
  find_field = "name",
  fields = "id name priority fallbackMethod allowedDomains deniedDomains " .. CATEGORIES,
  nested = {
    groups = { fields = "id name" },
  },
  create = {
    field = "dnsFilteringProfileCreate",
    args = { name = "String!" },
  },
  update = {
    field = "dnsFilteringProfileUpdate", idempotent = true,
    -- groups takes Group ids but is typed [String!] by the API
    args = {
      name = "String", priority = "Float", fallbackMethod = "DohFallbackMethod",
      allowedDomains = "[String!]", deniedDomains = "[String!]", groups = "[String!]",
      privacyCategoryConfig = "PrivacyCategoryConfigInput",
      securityCategoryConfig = "SecurityCategoryConfigInput",
      contentCategoryConfig = "ContentCategoryConfigInput",
    },
  },
  delete = { field = "dnsFilteringProfileDelete" },
}

return C
