using System.Text.Json;
using System.Text.Json.Serialization;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Proposals;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Pages.Shared;

/// <summary>
/// Everything a read-only proposal page shows, for the team (/Proposals), the admins (/Admin/Proposals), the reviewers
/// (/Reviews) and the safety reviewers (/Safety): each passes its own scope. Read in one SQL statement, one round trip
/// (docs/performance.md, "The proposal page in one statement"): PostgreSQL builds the proposal, its call, team, timeline,
/// files and reviewers as one JSON document. Attachment bytes are never read, nor any cluster the call does not offer.
/// </summary>
/// <param name="Requests">One line per cluster the call offers, with what the proposal asks of it (0 when nothing).</param>
/// <param name="Reviewers">Users assigned to review the proposal: never named to the team (<see cref="ApplicantTimeline"/>).</param>
public sealed record ProposalView(
    ProposalView.ProposalFacts Proposal,
    ProposalView.CallFacts Call,
    IReadOnlyList<ProposalView.RequestLine> Requests,
    IReadOnlyList<ProposalView.MemberLine> Team,
    IReadOnlyList<ProposalView.HistoryLine> Timeline,
    IReadOnlyList<ProposalView.AttachmentLine> Attachments,
    IReadOnlyList<Guid> Reviewers,
    string PiInstitution)
{
    /// <summary>The proposal as its pages read it: the names are <see cref="Meta.ComputeAccess.Proposals.Proposal"/>'s, the rules too.</summary>
    /// <param name="Requests">What the proposal asks of each cluster (only clusters asked for).</param>
    /// <param name="Awards">The hours decided per cluster (shown to the team once released).</param>
    public sealed record ProposalFacts(
        Guid Id, Guid CallId, Guid PiUserId, ProposalStatus Status, string Title, string AbstractMarkdown, IReadOnlyList<string> Keywords,
        string ResearchField, string ComputeJustification, bool? UsesPersonalData, string PersonalDataDetails, bool? InvolvesHumanSubjects,
        string HumanSubjectsDetails, bool? HasDualUseRisk, string DualUseDetails, string Licences, PlannedOutputs PlannedOutputs,
        string OutputsDetails, DateTimeOffset? SubmittedAt, ProposalDecision? Decision, DateTimeOffset? DecisionReleasedAt, string DecisionMessage,
        AwardResponse? AwardResponse, DateTimeOffset? AwardRespondedAt, bool ListedPublicly,
        IReadOnlyList<RequestedHours> Requests, IReadOnlyList<AwardedHours> Awards)
    {
        public bool IsEditable => Meta.ComputeAccess.Proposals.Proposal.IsEditableIn(Status);
    }

    /// <summary>The call as the proposal pages read it: the names are <see cref="Meta.ComputeAccess.Calls.Call"/>'s, the rules too.</summary>
    public sealed record CallFacts(
        Guid Id, string Title, string Slug, string EligibilityText, CallStatus Status, DateTimeOffset? ClosesAt, ReviewMode ReviewMode,
        DateTimeOffset? ReviewDeadline, DateTimeOffset? ResponseOpenedAt, DateTimeOffset? ResponseDeadline, IReadOnlyList<CriterionLine> Rubric)
    {
        public bool IsAcceptingDrafts(DateTimeOffset now) => Meta.ComputeAccess.Calls.Call.AcceptsDrafts(Status, ClosesAt, now);
    }

    public sealed record CriterionLine(Guid Id, int Position, string Name, string Guidance, decimal Weight);

    public sealed record RequestLine(Guid ClusterId, string Cluster, decimal Requested, decimal MinimumViable, decimal MaxAllowed);

    /// <param name="InstitutionVerified">The institution came from the member's identity provider, not from typing.</param>
    /// <param name="OrcidIdVerified">The ORCID iD came from a sign-in through ORCID.</param>
    /// <param name="Affiliations">eduPersonScopedAffiliation values from the member's identity provider.</param>
    public sealed record MemberLine(Guid Id, Guid? UserId, string Name, string Email, string? Institution, MemberRole Role, bool Pending,
        bool InstitutionVerified = false, string? OrcidId = null, bool OrcidIdVerified = false, IReadOnlyList<string>? Affiliations = null);

    /// <param name="ActorId">Who took the step (null for the system): what decides whether a reader may see <paramref name="Actor"/>.</param>
    public sealed record HistoryLine(DateTimeOffset At, Guid? ActorId, string? Actor, ProposalStatus? From, ProposalStatus To, string Reason);

    public sealed record AttachmentLine(Guid Id, string FileName, long SizeBytes, DateTimeOffset UploadedAt);

    /// <summary>
    /// Loads the proposal <paramref name="id"/> from <paramref name="scope"/> (already filtered by who may see it); null
    /// when it is not there. One command: the scope becomes an EXISTS on the statement that builds the document.
    /// </summary>
    public static async Task<ProposalView?> LoadAsync(PortalDbContext db, IQueryable<Proposal> scope, Guid id, CancellationToken cancellationToken)
    {
        var json = await db.Database.SqlQuery<Document>(DocumentSql(id))
            .Where(d => scope.Any(p => p.Id == d.Id))
            .Select(d => d.Json)
            .SingleOrDefaultAsync(cancellationToken);
        if (json is null)
        {
            return null;
        }
        var found = JsonSerializer.Deserialize<Found>(json, Json)!;
        // The team comes in the order invited; the PI first (a stable sort by role: roles are stored by name).
        var team = found.Team.OrderBy(m => m.Role).ToList();
        var pi = team.FirstOrDefault(t => t.Role == MemberRole.PrincipalInvestigator);
        return new ProposalView(found.Proposal, found.Call, found.Requests, team, found.Timeline, found.Attachments, found.Reviewers, pi?.Institution ?? "");
    }

    /// <summary>
    /// The timeline as the team reads it: a step is named only when one of the team took it, decided by user id (a name
    /// can be anything anyone picks) and never for one of the proposal's <see cref="Reviewers"/>; the program's and the
    /// reviewers' steps say when, not who. No decision shows before it is released.
    /// </summary>
    public IReadOnlyList<HistoryLine> ApplicantTimeline()
    {
        var team = Team.Where(m => m.UserId is { } id && !Reviewers.Contains(id)).Select(m => m.UserId!.Value).ToHashSet();
        return [.. Timeline
            .Where(h => Proposal.DecisionReleasedAt is not null || h.To != ProposalStatus.Decided)
            .Select(h => h with { Actor = h.ActorId is { } actor && team.Contains(actor) ? h.Actor : null })];
    }

    /// <summary>A call with the names of the clusters it offers (and of no others).</summary>
    public static async Task<(Call Call, IReadOnlyDictionary<Guid, string> ClusterNames)> LoadCallAsync(PortalDbContext db, Guid callId, CancellationToken cancellationToken)
    {
        var found = await db.Calls.AsNoTracking()
            .Where(c => c.Id == callId)
            .Select(c => new { Call = c, Clusters = (from t in c.Clusters join k in db.Clusters on t.ClusterId equals k.Id select new { k.Id, k.Name }).ToList() })
            // Split, as calls always are: one joined query would repeat the call's long texts for every cluster and criterion.
            .AsSplitQuery()
            .SingleAsync(cancellationToken);
        return (found.Call, found.Clusters.ToDictionary(k => k.Id, k => k.Name));
    }

    /// <summary>
    /// The proposal's document, one row: every section a JSON aggregate of its own (a proposal has a few of each), so no
    /// section's rows multiply another's. The keys are the names of the records they fill; ProposalViewTests compares
    /// every field with the entities EF loads, so a column renamed without this changing fails there.
    /// </summary>
    private static FormattableString DocumentSql(Guid id) => $"""
        SELECT p.id AS id, json_build_object(
            'Proposal', json_build_object(
                'Id', p.id, 'CallId', p.call_id, 'PiUserId', p.pi_user_id, 'Status', p.status, 'Title', p.title,
                'AbstractMarkdown', p.abstract_markdown, 'Keywords', p.keywords, 'ResearchField', p.research_field,
                'ComputeJustification', p.compute_justification,
                'UsesPersonalData', p.uses_personal_data, 'PersonalDataDetails', p.personal_data_details,
                'InvolvesHumanSubjects', p.involves_human_subjects, 'HumanSubjectsDetails', p.human_subjects_details,
                'HasDualUseRisk', p.has_dual_use_risk, 'DualUseDetails', p.dual_use_details, 'Licences', p.licences,
                'PlannedOutputs', p.planned_outputs, 'OutputsDetails', p.outputs_details, 'SubmittedAt', p.submitted_at,
                'Decision', p.decision, 'DecisionReleasedAt', p.decision_released_at, 'DecisionMessage', p.decision_message,
                'AwardResponse', p.award_response, 'AwardRespondedAt', p.award_responded_at, 'ListedPublicly', p.listed_publicly,
                'Requests', (SELECT coalesce(json_agg(json_build_object('ClusterId', r.cluster_id, 'Requested', r.requested_hours,
                        'MinimumViable', r.minimum_viable_hours) ORDER BY r.cluster_id), '[]')
                    FROM proposal_cluster_requests r WHERE r.proposal_id = p.id),
                'Awards', (SELECT coalesce(json_agg(json_build_object('ClusterId', a.cluster_id, 'Hours', a.hours) ORDER BY a.id), '[]')
                    FROM proposal_awards a WHERE a.proposal_id = p.id)),
            'Call', json_build_object(
                'Id', c.id, 'Title', c.title, 'Slug', c.slug, 'EligibilityText', c.eligibility_text, 'Status', c.status,
                'ClosesAt', c.closes_at, 'ReviewMode', c.review_mode, 'ReviewDeadline', c.review_deadline,
                'ResponseOpenedAt', c.response_opened_at, 'ResponseDeadline', c.response_deadline,
                'Rubric', (SELECT coalesce(json_agg(json_build_object('Id', k.id, 'Position', k.position, 'Name', k.name,
                        'Guidance', k.guidance, 'Weight', k.weight) ORDER BY k.position, k.id), '[]')
                    FROM rubric_criteria k WHERE k.call_id = c.id)),
            'Requests', (SELECT coalesce(json_agg(json_build_object('ClusterId', o.cluster_id, 'Cluster', k.name,
                    'Requested', coalesce(r.requested_hours, 0), 'MinimumViable', coalesce(r.minimum_viable_hours, 0),
                    'MaxAllowed', o.max_request_hours) ORDER BY k.name, k.id), '[]')
                FROM call_clusters o JOIN clusters k ON k.id = o.cluster_id
                LEFT JOIN proposal_cluster_requests r ON r.proposal_id = p.id AND r.cluster_id = o.cluster_id
                WHERE o.call_id = c.id),
            /* An invitation not yet accepted has no user: it is its address. */
            'Team', (SELECT coalesce(json_agg(json_build_object('Id', m.id, 'UserId', u.id, 'Name', coalesce(u.full_name, m.invited_email, ''),
                    'Email', coalesce(u.email, m.invited_email, ''), 'Institution', u.institution, 'Role', m.role, 'Pending', u.id IS NULL,
                    'InstitutionVerified', coalesce(u.institution_verified, false), 'OrcidId', u.orcid_id,
                    'OrcidIdVerified', coalesce(u.orcid_id_verified, false), 'Affiliations', u.verified_affiliations)
                    ORDER BY m.invited_at, m.id), '[]')
                FROM proposal_members m LEFT JOIN users u ON u.id = m.user_id WHERE m.proposal_id = p.id),
            'Timeline', (SELECT coalesce(json_agg(json_build_object('At', h.at, 'ActorId', h.actor_user_id, 'Actor', u.full_name,
                    'From', h.from_status, 'To', h.to_status, 'Reason', h.reason) ORDER BY h.id), '[]')
                FROM proposal_history h LEFT JOIN users u ON u.id = h.actor_user_id WHERE h.proposal_id = p.id),
            'Attachments', (SELECT coalesce(json_agg(json_build_object('Id', f.id, 'FileName', f.file_name, 'SizeBytes', f.size_bytes,
                    'UploadedAt', f.uploaded_at) ORDER BY f.uploaded_at, f.id), '[]')
                FROM proposal_attachments f WHERE f.proposal_id = p.id),
            'Reviewers', (SELECT coalesce(json_agg(v.reviewer_user_id ORDER BY v.reviewer_user_id), '[]') FROM reviews v WHERE v.proposal_id = p.id)
        )::text AS json
        FROM proposals p JOIN calls c ON c.id = p.call_id
        WHERE p.id = {id}
        """;

    private static readonly JsonSerializerOptions Json = new() { Converters = { new JsonStringEnumConverter(), new UtcInstants() } };

    /// <summary>
    /// PostgreSQL writes a timestamptz into JSON in the session's time zone (the server's default unless set): the
    /// instants are read back in UTC, as Npgsql reads them everywhere else.
    /// </summary>
    private sealed class UtcInstants : JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.GetDateTimeOffset().ToUniversalTime();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.ToUniversalTime());
    }

    private sealed record Document(Guid Id, string Json);

    /// <summary>The document as PostgreSQL builds it: the view's sections by their names.</summary>
    private sealed record Found(ProposalFacts Proposal, CallFacts Call, IReadOnlyList<RequestLine> Requests, IReadOnlyList<MemberLine> Team,
        IReadOnlyList<HistoryLine> Timeline, IReadOnlyList<AttachmentLine> Attachments, IReadOnlyList<Guid> Reviewers);
}
