using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Proposals;

namespace Meta.ComputeAccess.Testing;

/// <summary>Arranges clusters, calls and proposals through the domain objects, as the pages would create them.</summary>
public static class TestCalls
{
    public sealed record OpenCall(Guid Id, string Slug, Guid ClusterId, DateTimeOffset ClosesAt);

    public static async Task<OpenCall> CreateOpenCallAsync(this PortalFactory factory, string slug, TimeSpan? closesIn = null)
    {
        var now = factory.Clock.GetUtcNow();
        await using var db = factory.NewDbContext();
        var cluster = Cluster.Create("Cluster " + slug, ("c-" + slug)[..Math.Min(40, slug.Length + 2)], "H100 80GB", 16, 8, "c" + slug.Replace("-", "", StringComparison.Ordinal), now);
        db.Clusters.Add(cluster);
        var call = Call.Create("Call " + slug, slug, now);
        call.SetTexts(call.Title, "A call for **open** research.", "Universities");
        call.SetSchedule(CallKind.Fixed, now.AddMinutes(-1), now + (closesIn ?? TimeSpan.FromDays(14)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(1)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(13)), "UTC");
        call.OfferCluster(cluster.Id, 1_000_000m, 1_000m, 100_000m);
        call.AddCriterion("Merit", "Is it important?", 50m);
        call.Open(now);
        db.Calls.Add(call);
        AddAwardCapacity(db, call, cluster.Id, now);
        await db.SaveChangesAsync();
        return new OpenCall(call.Id, call.Slug, cluster.Id, call.ClosesAt!.Value);
    }

    /// <summary>An allocation period with ample capacity covering the call's awards, as the program sets up before awards are accepted.</summary>
    public static void AddAwardCapacity(Meta.ComputeAccess.Data.PortalDbContext db, Call call, Guid clusterId, DateTimeOffset now)
    {
        var period = Meta.ComputeAccess.Allocations.AllocationPeriod.Create("Awards of " + call.Slug, call.AwardStart, call.AwardEnd, now);
        db.AllocationPeriods.Add(period);
        db.ClusterCapacities.Add(Meta.ComputeAccess.Allocations.ClusterCapacity.Create(clusterId, period.Id, 10_000_000m, 1m, 0m, now));
    }

    /// <summary>Fields of the edit form for a complete proposal requesting <paramref name="hours"/> on the call's cluster.</summary>
    public static Dictionary<string, string> CompleteForm(OpenCall call, uint version, decimal hours = 10_000m) => new()
    {
        ["Input.Version"] = version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Input.Title"] = "Open speech models for low-resource languages",
        ["Input.AbstractMarkdown"] = "We train and release open speech recognition models for four West African languages, with a new consented dataset and self-supervised pre-training.",
        ["Input.Keywords"] = "speech recognition, low-resource languages",
        ["Input.ResearchField"] = "Speech and audio",
        ["Input.ComputeJustification"] = "Pre-training a 1B-parameter conformer on 40,000 hours of audio takes 64 GPUs for 25 days; fine-tuning and ablations add the rest.",
        ["Input.UsesPersonalData"] = "false",
        ["Input.InvolvesHumanSubjects"] = "false",
        ["Input.HasDualUseRisk"] = "false",
        ["Input.Licences"] = "Apache-2.0 code; CC BY 4.0 data",
        ["Input.Outputs"] = nameof(PlannedOutputs.OpenWeights),
        ["Input.Requests[0].ClusterId"] = call.ClusterId.ToString(),
        ["Input.Requests[0].Requested"] = hours.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Input.Requests[0].MinimumViable"] = (hours / 2).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Invites <paramref name="email"/> (the account <paramref name="userId"/>) and lets them accept, as the team pages would.</summary>
    public static void AddCoInvestigator(this Proposal proposal, string email, Guid userId, DateTimeOffset now)
    {
        var invitation = proposal.InviteCoInvestigator(email, userId, proposal.PiUserId, now);
        proposal.AcceptInvitation(invitation.Id, userId, email.Trim().ToUpperInvariant(), now);
    }

    /// <summary>A minimal valid PDF.</summary>
    public static byte[] Pdf(string text = "Project description") =>
        System.Text.Encoding.ASCII.GetBytes($"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% {text}\ntrailer << /Root 1 0 R >>\n%%EOF\n");
}
