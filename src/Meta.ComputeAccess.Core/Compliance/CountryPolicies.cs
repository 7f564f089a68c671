using Hangfire;
using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Review;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Compliance;

/// <summary>
/// The country rules: the program's (one rule per country, for every call) and each call's additions. Every change
/// is audited and followed by a re-screen of open proposals and allocations (<see cref="ComplianceRescreenJob"/>).
/// </summary>
public sealed class CountryPolicies(PortalDbContext db, AuditLog audit, IBackgroundJobClient jobs, TimeProvider clock)
{
    /// <summary>Sets the program's rule for <paramref name="country"/>; <see cref="CountryLevel.Open"/> removes it.</summary>
    public async Task SetProgramRuleAsync(string country, CountryLevel level, Guid officer, CancellationToken cancellationToken)
    {
        var code = (country ?? "").Trim().ToUpperInvariant();
        if (!Countries.IsKnown(code))
        {
            throw new DomainException("Choose a country from the list.", new Dictionary<string, string> { ["Country"] = "Choose a country." });
        }
        if (!Enum.IsDefined(level))
        {
            throw new DomainException("Choose open, restricted or embargoed.");
        }
        await db.SaveAsync(async () =>
        {
            var rule = await db.CountryRules.SingleOrDefaultAsync(r => r.Country == code, cancellationToken);
            var now = clock.GetUtcNow();
            if (level == CountryLevel.Open)
            {
                if (rule is null)
                {
                    throw new DomainException($"{Countries.NameOf(code)} has no program rule: it is open already.");
                }
                db.CountryRules.Remove(rule);
            }
            else if (rule is null)
            {
                db.CountryRules.Add(CountryRule.Create(code, level, officer, now));
            }
            else
            {
                rule.Change(level, officer, now);
            }
            audit.Record(officer, "compliance.country-rule", "country", code, $"Program country rule: {Countries.NameOf(code)} is {level.ToString().ToLowerInvariant()}");
        }, cancellationToken);
        ComplianceRescreenJob.Enqueue(jobs, null);
    }

    /// <summary>Sets the countries a call embargoes or restricts on top of the program's rules.</summary>
    public async Task SetCallRulesAsync(Guid callId, IEnumerable<string> embargoed, IEnumerable<string> restricted, Guid officer, CancellationToken cancellationToken)
    {
        await db.SaveAsync(async () =>
        {
            var call = await db.Calls.SingleOrDefaultAsync(c => c.Id == callId, cancellationToken) ?? throw new DomainException("No such call.");
            call.SetCountryRules(embargoed, restricted);
            audit.Record(officer, "compliance.country-rule", "call", call.Id.ToString(),
                $"Country rules of {call.Title}: embargoed {Names(call.EmbargoedCountries)}; restricted {Names(call.RestrictedCountries)}");
        }, cancellationToken);
        ComplianceRescreenJob.Enqueue(jobs, null);
    }

    private static string Names(IReadOnlyCollection<string> codes) => codes.Count == 0 ? "none" : string.Join(", ", codes.Select(Countries.NameOf));
}
