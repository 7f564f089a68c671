using System.ComponentModel.DataAnnotations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Web;

namespace Meta.ComputeAccess.Web.Pages.Account;

/// <summary>The profile fields shared by registration and the profile page, with their validation.</summary>
public class ProfileFields : IValidatableObject
{
    [Required(ErrorMessage = "Enter your full name.")]
    [StringLength(200, MinimumLength = 2, ErrorMessage = "Your name must be 2 to 200 characters.")]
    [Display(Name = "Full name")]
    public string FullName { get; set; } = "";

    [Required(ErrorMessage = "Enter your institution (university, lab or company).")]
    [StringLength(200, MinimumLength = 2, ErrorMessage = "The institution must be 2 to 200 characters.")]
    public string Institution { get; set; } = "";

    [Required(ErrorMessage = "Choose your country.")]
    public string Country { get; set; } = "";

    [Display(Name = "ORCID iD (optional)")]
    [StringLength(40)]
    public string? OrcidId { get; set; }

    [Display(Name = "Time zone")]
    [StringLength(64)]
    public string TimeZoneId { get; set; } = "UTC";

    public List<string> ResearchFields { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Country) && !Countries.IsKnown(Country))
        {
            yield return new ValidationResult("Choose a country from the list.", [nameof(Country)]);
        }
        if (!string.IsNullOrWhiteSpace(OrcidId) && !Orcid.IsValid(OrcidId))
        {
            yield return new ValidationResult("This is not a valid ORCID iD: expected 0000-0000-0000-0000 with a correct check digit.", [nameof(OrcidId)]);
        }
        if (!Ui.UserTime.IsKnownZone(TimeZoneId))
        {
            yield return new ValidationResult("Choose a time zone from the list.", [nameof(TimeZoneId)]);
        }
        if (ResearchFields.Any(f => !Meta.ComputeAccess.Proposals.ResearchFields.IsKnown(f)) || ResearchFields.Count > 5)
        {
            yield return new ValidationResult("Choose up to five research fields from the list.", [nameof(ResearchFields)]);
        }
        if (PlainText.HasControl(FullName) || PlainText.HasControl(Institution))
        {
            yield return new ValidationResult("Names cannot contain control characters.", [nameof(FullName)]);
        }
    }

    public void ApplyTo(PortalUser user)
    {
        user.FullName = FullName.Trim();
        user.ChangeInstitution(Institution);
        user.Country = Country.ToUpperInvariant();
        user.ChangeOrcidId(Orcid.TryNormalize(OrcidId, out var orcid) ? orcid : null);
        user.TimeZoneId = TimeZoneId;
        user.ResearchFields = [.. ResearchFields.Distinct(StringComparer.Ordinal)];
    }
}
