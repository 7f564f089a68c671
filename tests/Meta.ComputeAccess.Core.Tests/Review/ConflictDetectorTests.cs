using Meta.ComputeAccess.Review;

namespace Meta.ComputeAccess.Core.Tests.Review;

public sealed class ConflictDetectorTests
{
    private static readonly Guid ReviewerId = Guid.Parse("00000000-0000-0000-0000-0000000000aa");
    private static readonly Guid MemberId = Guid.Parse("00000000-0000-0000-0000-0000000000bb");
    private readonly ConflictDetector _detector = new();

    private static ReviewerIdentity Reviewer(string? institution = "Reviewer Institute", string? email = "rev@reviewer-institute.org", params Guid[] collaborators) =>
        new(ReviewerId, institution, email, collaborators);

    private static TeamMemberIdentity Member(string? institution = "Applicant University", string? email = "pi@applicant.edu", params Guid[] collaborators) =>
        new(MemberId, institution, email, collaborators);

    private IReadOnlyList<DetectedConflict> Detect(ReviewerIdentity reviewer, params TeamMemberIdentity[] team) => _detector.Detect(reviewer, team);

    [Fact]
    public void Unrelated_reviewer_has_no_conflict()
    {
        Assert.Empty(Detect(Reviewer(), Member()));
    }

    [Fact]
    public void Reviewer_on_the_team_is_a_conflict()
    {
        var self = new TeamMemberIdentity(ReviewerId, "Reviewer Institute", "rev@reviewer-institute.org", []);

        var conflict = Assert.Single(Detect(Reviewer(), Member(), self));

        Assert.Equal(ConflictType.TeamMember, conflict.Type);
        Assert.Equal(ReviewerId, conflict.TeamMemberId);
        Assert.Contains("team", conflict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("University of Oxford", "university of oxford")]
    [InlineData("University of Oxford", "  University  of   Oxford. ")]
    [InlineData("M.I.T.", "MIT")]
    [InlineData("Max-Planck-Institut für Informatik", "max planck institut fur informatik")]
    [InlineData("The Alan Turing Institute", "Alan Turing Institute")]
    [InlineData("Texas A&M University", "Texas A and M University")]
    public void Same_institution_ignoring_case_whitespace_and_punctuation_is_a_conflict(string reviewerInstitution, string memberInstitution)
    {
        var conflict = Assert.Single(Detect(Reviewer(reviewerInstitution), Member(memberInstitution)));

        Assert.Equal(ConflictType.SameInstitution, conflict.Type);
        Assert.Contains(memberInstitution.Trim(), conflict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true, true, "verified by both identity providers")]
    [InlineData(true, false, "verified for the reviewer, typed by the team member")]
    [InlineData(false, true, "typed by the reviewer, verified for the team member")]
    [InlineData(false, false, "as typed, not verified")]
    public void An_institution_conflict_says_whether_identity_providers_vouched_for_it(bool reviewerVerified, bool memberVerified, string says)
    {
        var reviewer = new ReviewerIdentity(ReviewerId, "University of Oxford", "rev@reviewer-institute.org", [], InstitutionVerified: reviewerVerified);
        var member = new TeamMemberIdentity(MemberId, "University of Oxford", "pi@applicant.edu", [], InstitutionVerified: memberVerified);

        var conflict = Assert.Single(Detect(reviewer, member));

        Assert.Equal(ConflictType.SameInstitution, conflict.Type);
        Assert.EndsWith($"({says})", conflict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_verified_orcid_id_on_a_reviewer_and_a_team_member_is_the_same_person()
    {
        var reviewer = new ReviewerIdentity(ReviewerId, "Reviewer Institute", "rev@reviewer-institute.org", [], VerifiedOrcidId: "0000-0002-1825-0097");
        var member = new TeamMemberIdentity(MemberId, "Applicant University", "pi@applicant.edu", [], VerifiedOrcidId: "0000-0002-1825-0097");

        var conflict = Assert.Single(Detect(reviewer, member));

        Assert.Equal(ConflictType.TeamMember, conflict.Type);
        Assert.Contains("same verified ORCID iD", conflict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_typed_orcid_id_proves_nothing_and_is_not_compared()
    {
        // Only verified iDs reach the detector; two unverified accounts with one typed iD are two people as far as it knows.
        var reviewer = new ReviewerIdentity(ReviewerId, "Reviewer Institute", "rev@reviewer-institute.org", []);
        var member = new TeamMemberIdentity(MemberId, "Applicant University", "pi@applicant.edu", [], VerifiedOrcidId: "0000-0002-1825-0097");

        Assert.Empty(Detect(reviewer, member));
    }

    [Theory]
    [InlineData("University of Oxford", "University of Cambridge")]
    [InlineData("", "")]
    [InlineData(null, null)]
    public void Different_or_missing_institutions_are_not_a_conflict(string? reviewerInstitution, string? memberInstitution)
    {
        Assert.Empty(Detect(Reviewer(reviewerInstitution), Member(memberInstitution)));
    }

    [Fact]
    public void Same_email_domain_is_a_conflict()
    {
        var conflict = Assert.Single(Detect(Reviewer(email: "a@lab.example.org"), Member(email: "b@lab.example.org")));

        Assert.Equal(ConflictType.SameEmailDomain, conflict.Type);
        Assert.Contains("example.org", conflict.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice@cs.mit.edu", "bob@mit.edu")]
    [InlineData("alice@csail.mit.edu", "bob@MATH.MIT.EDU")]
    [InlineData("alice@cs.ox.ac.uk", "bob@ox.ac.uk")]
    [InlineData("alice@physics.unimelb.edu.au", "bob@unimelb.edu.au")]
    [InlineData("alice@cs.northfield.example.edu", "bob@northfield.example.edu")]
    public void Subdomains_of_one_institution_domain_are_the_same_domain(string reviewerEmail, string memberEmail)
    {
        var conflict = Assert.Single(Detect(Reviewer(email: reviewerEmail), Member(email: memberEmail)));

        Assert.Equal(ConflictType.SameEmailDomain, conflict.Type);
    }

    [Theory]
    [InlineData("alice@ox.ac.uk", "bob@cam.ac.uk")]
    [InlineData("alice@cs.ox.ac.uk", "bob@eng.cam.ac.uk")]
    [InlineData("alice@unimelb.edu.au", "bob@sydney.edu.au")]
    [InlineData("alice@u-tokyo.ac.jp", "bob@kyoto-u.ac.jp")]
    [InlineData("alice@mit.edu", "bob@stanford.edu")]
    [InlineData("rosa@northfield.example.edu", "amara@lakeside.example.edu")]
    [InlineData("kenji@tokai.example.ac.jp", "yui@osaka.example.ac.jp")]
    public void Different_institutions_under_a_shared_public_suffix_are_not_a_conflict(string reviewerEmail, string memberEmail)
    {
        Assert.Empty(Detect(Reviewer(email: reviewerEmail), Member(email: memberEmail)));
    }

    [Theory]
    [InlineData("gmail.com")]
    [InlineData("googlemail.com")]
    [InlineData("outlook.com")]
    [InlineData("hotmail.com")]
    [InlineData("live.com")]
    [InlineData("yahoo.com")]
    [InlineData("yahoo.co.uk")]
    [InlineData("hotmail.fr")]
    [InlineData("icloud.com")]
    [InlineData("gmx.de")]
    [InlineData("web.de")]
    [InlineData("mail.ru")]
    [InlineData("yandex.ru")]
    [InlineData("qq.com")]
    [InlineData("163.com")]
    [InlineData("126.com")]
    [InlineData("sina.com")]
    [InlineData("proton.me")]
    [InlineData("protonmail.com")]
    [InlineData("zoho.com")]
    public void Webmail_domains_never_count_as_a_conflict(string domain)
    {
        Assert.True(EmailDomains.IsWebmail(domain));
        Assert.Empty(Detect(Reviewer(email: "alice@" + domain), Member(email: "bob@" + domain.ToUpperInvariant())));
    }

    [Fact]
    public void Institutional_domains_are_not_mistaken_for_webmail()
    {
        Assert.False(EmailDomains.IsWebmail("mit.edu"));
        Assert.False(EmailDomains.IsWebmail("cs.ox.ac.uk"));
    }

    [Fact]
    public void Collaborator_declared_by_the_reviewer_is_a_conflict()
    {
        var conflict = Assert.Single(Detect(Reviewer(collaborators: MemberId), Member()));

        Assert.Equal(ConflictType.DeclaredCollaborator, conflict.Type);
        Assert.Contains("reviewer declared", conflict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Collaborator_declared_by_a_team_member_is_a_conflict()
    {
        var conflict = Assert.Single(Detect(Reviewer(), Member(collaborators: ReviewerId)));

        Assert.Equal(ConflictType.DeclaredCollaborator, conflict.Type);
        Assert.Contains("declared the reviewer", conflict.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Collaborator_of_someone_else_is_not_a_conflict()
    {
        var stranger = Guid.NewGuid();

        Assert.Empty(Detect(Reviewer(collaborators: stranger), Member(collaborators: stranger)));
    }

    [Fact]
    public void Every_rule_that_applies_is_reported_with_its_member()
    {
        var other = new TeamMemberIdentity(Guid.Parse("00000000-0000-0000-0000-0000000000cc"), "Reviewer Institute", "x@gmail.com", []);

        var conflicts = Detect(Reviewer(email: "rev@inst.org", collaborators: MemberId), Member(email: "pi@cs.inst.org"), other);

        Assert.Equal(
            [(ConflictType.SameEmailDomain, MemberId), (ConflictType.DeclaredCollaborator, MemberId), (ConflictType.SameInstitution, other.UserId)],
            conflicts.Select(c => (c.Type, c.TeamMemberId)).ToArray());
    }
}
