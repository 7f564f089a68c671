using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Meta.ComputeAccess.Privacy;

/// <summary>
/// Everything the portal holds about a person, as one JSON document they download from their security page
/// (docs/compliance.md, "Your data"). Written section by section straight to the response, rows streamed from the
/// database, so a long history costs memory for one row at a time. Other people's data stays out: the person's own
/// reviews without anyone else's scores or names, the proposals they are on without their teammates' details.
/// </summary>
public sealed class PersonalDataExport(PortalDbContext db, RateLimitWindows windows, TimeProvider clock, IOptions<PrivacyOptions> options)
{
    public const string Format = "meta-compute-access/personal-data/1";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// Counts the download against the person's hourly allowance (<see cref="PrivacyOptions.ExportsPerHour"/>, in the
    /// shared rate-limit windows, so it holds across instances) and returns the file name; refused once the allowance is
    /// used. A download is a read: it is not audited.
    /// </summary>
    public async Task<string> StartAsync(Guid userId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        var endsAt = RateLimitWindow.WindowEnd(now, TimeSpan.FromHours(1));
        var count = await windows.CountAsync($"export|{userId}", endsAt, 1, cancellationToken);
        if (count > options.Value.ExportsPerHour)
        {
            throw new DomainException($"You downloaded your data {options.Value.ExportsPerHour} times this hour; try again in {Math.Ceiling((endsAt - now).TotalMinutes):0} minutes.");
        }
        return $"meta-compute-access-my-data-{now.UtcDateTime:yyyy-MM-dd}.json";
    }

    public async Task WriteAsync(Guid userId, Stream output, CancellationToken cancellationToken = default)
    {
        // The writer fills a buffer (JsonSerializer flushes synchronously, which a response refuses); the buffer goes out asynchronously.
        var buffer = new ArrayBufferWriter<byte>(Chunk * 2);
        await using var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = true,
            // A file to save, not a script in a page: names and text are written as they are (é, ’), not as \u escapes.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });
        writer.WriteStartObject();
        writer.WriteString("format", Format);
        writer.WriteString("exportedAt", clock.GetUtcNow());
        writer.WritePropertyName("account");
        JsonSerializer.Serialize(writer, await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new
        {
            u.Id, u.Email, u.EmailConfirmed, u.FullName, u.Institution, u.InstitutionVerified, u.VerifiedAffiliations, u.Country, u.OrcidId, u.OrcidIdVerified,
            u.EmailDomain, u.TimeZoneId, u.ResearchFields, u.CreatedAt, u.LastSignInAt, u.TwoFactorEnabled,
            Roles = db.UserRoles.Where(r => r.UserId == u.Id).Join(db.Roles, r => r.RoleId, r => r.Id, (_, r) => r.Name).ToList(),
        }).SingleAsync(cancellationToken), Json);

        await ArrayAsync(writer, buffer, output, "linkedSignIns", db.UserLogins.AsNoTracking().Where(l => l.UserId == userId).OrderBy(l => l.LoginProvider)
            .Select(l => new { provider = l.LoginProvider, l.ProviderKey, l.ProviderDisplayName }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "sessions", db.UserSessions.AsNoTracking().Where(s => s.UserId == userId).OrderBy(s => s.StartedAt)
            .Select(s => new { s.StartedAt, s.LastSeenAt, s.EndedAt, s.Persistent, ClientAddress = s.ClientAddress == null ? null : s.ClientAddress.ToString(), s.UserAgent }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "signInHistory", db.SignInEvents.AsNoTracking().Where(e => e.UserId == userId).OrderBy(e => e.At).ThenBy(e => e.Id)
            .Select(e => new { e.At, Outcome = e.Outcome.ToString(), ClientAddress = e.ClientAddress == null ? null : e.ClientAddress.ToString(), e.UserAgent }), cancellationToken);

        writer.WritePropertyName("consents");
        writer.WriteStartObject();
        await ArrayAsync(writer, buffer, output, "proposalTeams", db.ProposalMembers.AsNoTracking().Where(m => m.UserId == userId && m.Role == MemberRole.CoInvestigator)
            .Join(db.Proposals, m => m.ProposalId, p => p.Id, (m, p) => new { proposal = p.Title, m.InvitedAt, acceptedAt = m.JoinedAt }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "allocationMemberships", db.AllocationMemberEvents.AsNoTracking().Where(e => e.UserId == userId && e.ActorUserId == userId)
            .Join(db.Allocations, e => e.AllocationId, a => a.Id, (e, a) => new { allocation = a.ProjectTitle, a.SlurmAccount, e.Action, e.At }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "notificationPreferences", db.NotificationPreferences.AsNoTracking().Where(p => p.UserId == userId).OrderBy(p => p.Kind)
            .Select(p => new { p.Kind, Mode = p.Mode.ToString(), p.UpdatedAt }), cancellationToken);
        // The terms the person accepted (the program's terms of use and calls' award terms), each version as it read then.
        await ArrayAsync(writer, buffer, output, "termsAccepted", db.TermsAcceptances.AsNoTracking().Where(a => a.UserId == userId)
            .Join(db.TermsDocuments, a => a.DocumentId, d => d.Id, (a, d) => new { a, d })
            .OrderBy(x => x.a.AcceptedAt).ThenBy(x => x.a.Id)
            .Select(x => new
            {
                Kind = x.d.Kind.ToString(), call = db.Calls.Where(c => c.Id == x.d.CallId).Select(c => c.Title).FirstOrDefault(), x.d.Version, x.d.PublishedAt,
                text = x.d.TextMarkdown, x.a.AcceptedAt,
            }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "awardConditionsAccepted", db.AwardConditionAcceptances.AsNoTracking().Where(a => a.AcceptedByUserId == userId)
            .OrderBy(a => a.AcceptedAt).ThenBy(a => a.Id)
            .Select(a => new { proposal = db.Proposals.Where(p => p.Id == a.ProposalId).Select(p => p.Title).Single(), a.Title, a.Text, a.AcceptedAt }), cancellationToken);
        writer.WriteEndObject();

        await ArrayAsync(writer, buffer, output, "proposals", db.ProposalMembers.AsNoTracking().Where(m => m.UserId == userId)
            .Join(db.Proposals, m => m.ProposalId, p => p.Id, (m, p) => new { m, p })
            .OrderBy(x => x.p.CreatedAt)
            .Select(x => new
            {
                x.p.Id, call = db.Calls.Where(c => c.Id == x.p.CallId).Select(c => c.Title).Single(), yourRole = x.m.Role.ToString(), x.m.JoinedAt,
                Status = x.p.Status.ToString(), x.p.Title, x.p.AbstractMarkdown, x.p.Keywords, x.p.ResearchField, x.p.ComputeJustification,
                x.p.UsesPersonalData, x.p.PersonalDataDetails, x.p.HasDualUseRisk, x.p.DualUseDetails, x.p.InvolvesHumanSubjects, x.p.HumanSubjectsDetails,
                x.p.Licences, PlannedOutputs = x.p.PlannedOutputs.ToString(), x.p.OutputsDetails,
                x.p.CreatedAt, x.p.SubmittedAt,
                requestedHours = x.p.Requests.Select(r => new { cluster = db.Clusters.Where(c => c.Id == r.ClusterId).Select(c => c.Name).Single(), r.RequestedHours, r.MinimumViableHours }).ToList(),
                // The decision only once released: before that the applicants do not see it either.
                decision = x.p.DecisionReleasedAt == null ? null : x.p.Decision.ToString(),
                decisionMessage = x.p.DecisionReleasedAt == null ? null : x.p.DecisionMessage,
                x.p.DecisionReleasedAt,
                // The award's answer and what the PI agreed to show on the public page of awards.
                AwardResponse = x.p.AwardResponse == null ? null : x.p.AwardResponse.ToString(), x.p.AwardRespondedAt,
                x.p.ListedPublicly, x.p.PublicUsageShown, x.p.PublicSummary,
                attachments = db.ProposalAttachments.Where(a => a.ProposalId == x.p.Id).OrderBy(a => a.UploadedAt)
                    .Select(a => new { a.FileName, a.SizeBytes, a.Sha256, a.UploadedAt, uploadedByYou = a.UploadedBy == userId }).ToList(),
            }), cancellationToken);

        // Own reviews only: no other reviewer's scores or names, and nothing of the authors beyond the title the reviewer saw.
        await ArrayAsync(writer, buffer, output, "reviews", db.Reviews.AsNoTracking().Where(r => r.ReviewerUserId == userId).OrderBy(r => r.AssignedAt)
            .Select(r => new
            {
                proposal = db.Proposals.Where(p => p.Id == r.ProposalId).Select(p => p.Title).Single(),
                call = db.Calls.Where(c => c.Id == r.CallId).Select(c => c.Title).Single(),
                r.AssignedAt, r.SubmittedAt, r.UpdatedAt, r.Overall, r.Confidence, r.CommentsForApplicants, r.ConfidentialComments,
                scores = r.Scores.Select(s => new { criterion = db.Calls.Where(c => c.Id == r.CallId).SelectMany(c => c.Rubric).Where(k => k.Id == s.CriterionId).Select(k => k.Name).FirstOrDefault(), s.Score }).ToList(),
                recommendedHours = r.Recommendations.Select(h => new { cluster = db.Clusters.Where(c => c.Id == h.ClusterId).Select(c => c.Name).Single(), h.Hours }).ToList(),
                revisions = db.ReviewRevisions.Where(v => v.ReviewId == r.Id).OrderBy(v => v.At).Select(v => new { v.At, v.FromOverall, v.ToOverall, v.Reason }).ToList(),
            }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "reviewBids", db.ReviewBids.AsNoTracking().Where(b => b.ReviewerUserId == userId).OrderBy(b => b.UpdatedAt)
            .Select(b => new { proposal = db.Proposals.Where(p => p.Id == b.ProposalId).Select(p => p.Title).Single(), Bid = b.Bid.ToString(), b.UpdatedAt }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "responsesToReviews", db.ReviewResponses.AsNoTracking().Where(r => r.AuthorUserId == userId).OrderBy(r => r.SubmittedAt)
            .Select(r => new { proposal = db.Proposals.Where(p => p.Id == r.ProposalId).Select(p => p.Title).Single(), r.TextMarkdown, r.SubmittedAt }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "appeals", db.DecisionAppeals.AsNoTracking().Where(a => a.FiledByUserId == userId).OrderBy(a => a.FiledAt)
            .Select(a => new { proposal = db.Proposals.Where(p => p.Id == a.ProposalId).Select(p => p.Title).Single(), a.Reason, a.FiledAt, Outcome = a.Outcome.ToString(), a.DecisionReason, a.DecidedAt }), cancellationToken);

        await ArrayAsync(writer, buffer, output, "allocations", db.AllocationMembers.AsNoTracking().Where(m => m.UserId == userId)
            .Join(db.Allocations, m => m.AllocationId, a => a.Id, (m, a) => new { a.ProjectTitle, a.SlurmAccount, Role = m.Role.ToString(), Status = m.Status.ToString(), m.Since, a.StartDate, a.EndDate, State = a.State.ToString() }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "progressReportsYouSubmitted", db.ProgressReports.AsNoTracking().Where(r => r.SubmittedBy == userId).OrderBy(r => r.SubmittedAt)
            .Select(r => new
            {
                allocation = db.Allocations.Where(a => a.Id == r.AllocationId).Select(a => a.ProjectTitle).Single(),
                Kind = r.Kind.ToString(), r.DueOn, Status = r.Status.ToString(), r.Narrative, r.SubmittedAt, r.AcceptedAt,
                outputs = r.Outputs.Select(o => new { Kind = o.Kind.ToString(), o.Title, o.Doi, o.Url, o.Licence }).ToList(),
            }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "requestsForMoreHoursYouMade", db.SupplementRequests.AsNoTracking().Where(r => r.RequestedBy == userId).OrderBy(r => r.RequestedAt)
            .Select(r => new
            {
                allocation = db.Allocations.Where(a => a.Id == r.AllocationId).Select(a => a.ProjectTitle).Single(),
                cluster = db.Clusters.Where(c => c.Id == r.ClusterId).Select(c => c.Name).FirstOrDefault(),
                r.RequestedHours, r.RequestedEndDate, r.Justification, r.RequestedAt, Status = r.Status.ToString(), r.ApprovedHours, r.ApprovedEndDate, r.DecisionMessage, r.DecidedAt,
            }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "transferRequestsYouMade", db.TransferRequests.AsNoTracking().Where(r => r.RequestedBy == userId).OrderBy(r => r.RequestedAt)
            .Select(r => new
            {
                allocation = db.Allocations.Where(a => a.Id == r.AllocationId).Select(a => a.ProjectTitle).Single(),
                from = db.Clusters.Where(c => c.Id == r.FromClusterId).Select(c => c.Name).Single(),
                to = db.Clusters.Where(c => c.Id == r.ToClusterId).Select(c => c.Name).Single(),
                r.Hours, r.Justification, r.RequestedAt, Status = r.Status.ToString(), r.DecisionMessage, r.DecidedAt,
            }), cancellationToken);
        // Decisions the person took as a safety reviewer: theirs, with the proposal's title and nothing of its team.
        await ArrayAsync(writer, buffer, output, "safetyDecisionsYouMade", db.SafetyDecisions.AsNoTracking().Where(d => d.DecidedByUserId == userId).OrderBy(d => d.DecidedAt).ThenBy(d => d.Id)
            .Select(d => new
            {
                proposal = db.Proposals.Where(p => p.Id == d.ProposalId).Select(p => p.Title).Single(),
                Outcome = d.Outcome.ToString(), Reasons = d.Reasons.ToString(), d.Text, d.DecidedAt,
            }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "clusterLogins", db.ClusterLogins.AsNoTracking().Where(l => l.UserId == userId)
            .Join(db.Clusters, l => l.ClusterId, c => c.Id, (l, c) => new { cluster = c.Name, l.Login, l.Confirmed, l.ChangedAt }), cancellationToken);
        await ArrayAsync(writer, buffer, output, "notifications", db.Notifications.AsNoTracking().Where(n => n.UserId == userId).OrderBy(n => n.CreatedAt)
            .Select(n => new { n.Kind, n.Title, n.Summary, n.Link, n.CreatedAt, n.ReadAt }), cancellationToken);
        // What the person did, as the audit log has it: the action and when, not the lines (they name other people).
        await ArrayAsync(writer, buffer, output, "yourActionsInTheAuditLog", db.AuditEntries.AsNoTracking().Where(a => a.ActorUserId == userId).OrderBy(a => a.Id)
            .Select(a => new { a.OccurredAt, a.Action, a.SubjectType }), cancellationToken);
        writer.WriteEndObject();
        await SendAsync(writer, buffer, output, cancellationToken);
        await output.FlushAsync(cancellationToken);
    }

    private const int Chunk = 32_768;

    private static async Task ArrayAsync<T>(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, Stream output, string name, IQueryable<T> rows, CancellationToken cancellationToken)
    {
        writer.WritePropertyName(name);
        writer.WriteStartArray();
        await foreach (var row in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            JsonSerializer.Serialize(writer, row, Json);
            if (buffer.WrittenCount > Chunk)
            {
                await SendAsync(writer, buffer, output, cancellationToken);
            }
        }
        writer.WriteEndArray();
        await SendAsync(writer, buffer, output, cancellationToken);
    }

    private static async Task SendAsync(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, Stream output, CancellationToken cancellationToken)
    {
        writer.Flush();
        await output.WriteAsync(buffer.WrittenMemory, cancellationToken);
        buffer.ResetWrittenCount();
    }
}
