using Meta.ComputeAccess.Audit;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Data;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Calls;

/// <summary>A call's settings as the admin enters them; times are already in UTC, entered in <see cref="TimeZoneId"/>.</summary>
public sealed record CallSettings(
    string Title,
    string Description,
    string Eligibility,
    CallKind Kind,
    DateTimeOffset OpensAt,
    DateTimeOffset? ClosesAt,
    DateOnly AwardStart,
    DateOnly AwardEnd,
    string TimeZoneId,
    int ReviewsPerProposal,
    ReviewMode ReviewMode);

/// <summary>A cluster offered in a call: its hours budget and the bounds of one request.</summary>
public sealed record ClusterOffer(Guid ClusterId, decimal BudgetHours, decimal MinRequestHours, decimal MaxRequestHours);

/// <summary>
/// Every change an admin makes to a call: create, settings, clusters and budgets, rubric, open, close, archive. Each
/// finds the call by its slug, lets the call refuse what its state forbids, records who did what in the audit log and
/// saves once. A call that does not exist is refused like any other request ("No such call.").
/// </summary>
public sealed class CallAdministration(PortalDbContext db, AuditLog audit, TimeProvider clock)
{
    private const string Conflict = "Someone else changed this call at the same moment; nothing was saved. Check the call and try again.";

    /// <summary>A draft call with default terms, its times to be entered in <paramref name="timeZoneId"/>.</summary>
    public async Task<Call> CreateAsync(string title, string slug, string timeZoneId, Guid admin, CancellationToken cancellationToken)
    {
        var call = Call.Create(title, slug, clock.GetUtcNow());
        call.SetSchedule(CallKind.Fixed, call.OpensAt, call.ClosesAt, call.AwardStart, call.AwardEnd, timeZoneId);
        if (await db.Calls.AnyAsync(c => c.Slug == call.Slug, cancellationToken))
        {
            throw new DomainException("Another call already uses this slug.", new Dictionary<string, string> { ["Slug"] = "Choose another slug." });
        }
        db.Calls.Add(call);
        audit.Record(admin, "call.created", "call", call.Id.ToString(), $"Created call {call.Title}");
        await db.SaveChangesOrRefuseAsync("Another call took this slug at the same moment; choose another.", cancellationToken);
        return call;
    }

    /// <summary>Texts, schedule and review settings, as one change: the call refuses what its state forbids.</summary>
    public Task UpdateSettingsAsync(string slug, CallSettings settings, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.updated", call =>
        {
            call.SetTexts(settings.Title, settings.Description, settings.Eligibility);
            call.SetSchedule(settings.Kind, settings.OpensAt, settings.ClosesAt, settings.AwardStart, settings.AwardEnd, settings.TimeZoneId);
            call.SetReview(settings.ReviewsPerProposal, settings.ReviewMode);
            return $"Updated settings of {call.Title}";
        }, cancellationToken);

    /// <summary>Offers a cluster that is not retired, or changes its terms.</summary>
    public async Task OfferClusterAsync(string slug, ClusterOffer offer, Guid admin, CancellationToken cancellationToken)
    {
        var cluster = await db.Clusters.AsNoTracking()
            .Where(c => c.Id == offer.ClusterId && c.Status != ClusterStatus.Retired)
            .Select(c => c.Name)
            .SingleOrDefaultAsync(cancellationToken)
            ?? throw new DomainException("Choose a cluster from the list; retired clusters cannot be offered.");
        await ChangeAsync(slug, admin, "call.cluster", call =>
        {
            call.OfferCluster(offer.ClusterId, offer.BudgetHours, offer.MinRequestHours, offer.MaxRequestHours);
            return $"{call.Title}: offered {cluster} with {offer.BudgetHours.AsHours()} h (requests {offer.MinRequestHours.AsHours()}–{offer.MaxRequestHours.AsHours()} h)";
        }, cancellationToken);
    }

    public async Task WithdrawClusterAsync(string slug, Guid clusterId, Guid admin, CancellationToken cancellationToken)
    {
        var cluster = await db.Clusters.AsNoTracking().Where(c => c.Id == clusterId).Select(c => c.Name).SingleOrDefaultAsync(cancellationToken);
        await ChangeAsync(slug, admin, "call.cluster", call =>
        {
            call.WithdrawCluster(clusterId);
            return $"{call.Title}: withdrew {cluster}";
        }, cancellationToken);
    }

    public Task AddCriterionAsync(string slug, string name, string guidance, decimal weight, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.rubric", call =>
        {
            call.AddCriterion(name, guidance, weight);
            return $"{call.Title}: added criterion {name.Trim()}";
        }, cancellationToken);

    public Task UpdateCriterionAsync(string slug, Guid criterionId, string name, string guidance, decimal weight, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.rubric", call =>
        {
            call.UpdateCriterion(criterionId, name, guidance, weight);
            return $"{call.Title}: updated criterion {name.Trim()}";
        }, cancellationToken);

    public Task RemoveCriterionAsync(string slug, Guid criterionId, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.rubric", call =>
        {
            var name = call.Rubric.FirstOrDefault(c => c.Id == criterionId)?.Name;
            call.RemoveCriterion(criterionId);
            return $"{call.Title}: removed criterion {name}";
        }, cancellationToken);

    /// <summary>Publishes the call; it refuses unless described, with clusters, a rubric and a deadline ahead.</summary>
    public Task OpenAsync(string slug, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.opened", call =>
        {
            call.Open(clock.GetUtcNow());
            return $"Opened call {call.Title}";
        }, cancellationToken);

    public Task CloseAsync(string slug, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.closed", call =>
        {
            call.Close(clock.GetUtcNow());
            return $"Closed call {call.Title}";
        }, cancellationToken);

    public Task ArchiveAsync(string slug, Guid admin, CancellationToken cancellationToken) =>
        ChangeAsync(slug, admin, "call.archived", call =>
        {
            call.Archive();
            return $"Archived call {call.Title}";
        }, cancellationToken);

    /// <summary>Loads the call, applies <paramref name="change"/> (which says what it did), audits and saves.</summary>
    private async Task ChangeAsync(string slug, Guid admin, string action, Func<Call, string> change, CancellationToken cancellationToken)
    {
        var call = await db.Calls.SingleOrDefaultAsync(c => c.Slug == slug, cancellationToken) ?? throw new DomainException("No such call.");
        var summary = change(call);
        audit.Record(admin, action, "call", call.Id.ToString(), summary);
        await db.SaveChangesOrRefuseAsync(Conflict, cancellationToken);
    }

}
