using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Meta.ComputeAccess.OidcProvider;

/// <summary>
/// Breaks a signed identity token the way an attacker or a broken provider would, for the portal's refusal tests:
/// the payload is changed and the token signed again with the provider's own key (so only the changed claim is
/// wrong), or, for <see cref="Signature"/>, signed with another key under the same key id.
/// </summary>
public static class TokenTampering
{
    public const string Issuer = "issuer";
    public const string Audience = "audience";
    public const string Expired = "expired";
    public const string ReplayedNonce = "nonce";
    public const string Signature = "signature";

    public static readonly IReadOnlyList<(string Value, string Label)> Choices =
    [
        (Issuer, "issued by another issuer"),
        (Audience, "issued to another client"),
        (Expired, "expired an hour ago"),
        (ReplayedNonce, "carrying the nonce of an earlier request"),
        (Signature, "signed with a key that is not the provider's"),
    ];

    public static string Apply(string token, string how, SigningCredentials credentials)
    {
        var jwt = new JsonWebToken(token);
        var payload = JsonNode.Parse(Base64UrlEncoder.Decode(jwt.EncodedPayload))!.AsObject();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var kind = how.Split(':', 2);
        switch (kind[0])
        {
            case Issuer:
                payload["iss"] = "https://impostor.example.org/";
                break;
            case Audience:
                payload["aud"] = "someone-else";
                break;
            case Expired:
                payload["iat"] = now - 7200;
                payload["nbf"] = now - 7200;
                payload["exp"] = now - 3600;
                break;
            case ReplayedNonce:
                payload["nonce"] = kind.Length > 1 ? kind[1] : "replayed";
                break;
            case Signature:
                credentials = new SigningCredentials(new RsaSecurityKey(RSA.Create(2048)) { KeyId = credentials.Key.KeyId }, credentials.Algorithm);
                break;
            default:
                throw new ArgumentException($"Unknown tampering '{how}'.", nameof(how));
        }
        var header = new Dictionary<string, object> { [JwtHeaderParameterNames.Typ] = jwt.Typ };
        return new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), credentials, header);
    }
}
